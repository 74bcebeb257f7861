"""The CLI in process: help for every command and flag, and a run's summary describing that run."""

from __future__ import annotations

import os
import re

import dagster as dg
import duckdb
import pytest
from conftest import dagster_home

from assets import checks
from assets.checks import Check
from pipelines import definitions
from pipelines.cli import main
from warehouse import sql_assets


def help_of(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--help"])
    assert exit_.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_every_command_and_flag_is_described_with_its_default(capsys):
    top = help_of(capsys)
    for command in ("run", "model", "dev"):
        assert f"{command} " in top
    run = help_of(capsys, "run")
    assert "Run the nightly job" in run and "Exit status: 0 published, 1 a step failed, 2 a blocking check" in run
    for flag, default in (("--warehouse FILE", "default warehouse/sotaboard.duckdb"),
                          ("--source {snapshot,live}", "default snapshot"),
                          ("--snapshot DIR", "default the bundled snapshot")):
        assert flag in run and default in run
    dev = help_of(capsys, "dev")
    assert "-p 3001" in dev and "-h 0.0.0.0" in dev and "--warehouse FILE" in dev


def test_model_keeps_accepting_source_and_snapshot_but_does_not_offer_them(capsys, tmp_path):
    page = help_of(capsys, "model")
    assert "--warehouse FILE" in page and "--source" not in page and "--snapshot" not in page
    code = main(["model", "x", "--source", "live", "--snapshot", str(tmp_path), "--warehouse", str(tmp_path / "none.duckdb")])
    assert code == 1 and "sotaboard run" in capsys.readouterr().err     # parsed; the page is read from the file only


def test_other_commands_refuse_unknown_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "-p", "3001"])
    assert exit_.value.code == 2 and "unrecognized arguments: -p 3001" in capsys.readouterr().err


def test_a_failed_run_describes_itself_not_the_last_published_warehouse(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    warehouse = tmp_path / "out" / "sotaboard.duckdb"
    warehouse.parent.mkdir()
    # the last good run's file: its counts are not this run's
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE results AS SELECT range AS result_id FROM range(3); "
                "CREATE TABLE quarantine (source VARCHAR, record_key VARCHAR, reason VARCHAR)")
    con.close()
    (tmp_path / "state" / "work.duckdb").mkdir(parents=True)   # the working database cannot be opened
    for variable, value in {"DAGSTER_HOME": tmp_path / "dagster_home", "SOTABOARD_SOURCE": "snapshot",
                            "SOTABOARD_SNAPSHOT": empty, "SOTABOARD_WAREHOUSE": warehouse,
                            "SOTABOARD_STATE_DIR": tmp_path / "state"}.items():
        monkeypatch.setenv(variable, str(value))            # restored afterwards, whatever the CLI sets
    assert main(["run"]) == 1
    out, err = capsys.readouterr()
    assert "rows: " not in out and "quarantined:" not in out and "published " not in out
    steps = {tuple(words[1:]) for words in map(str.split, out.splitlines()) if words and re.fullmatch(r"\d+\.\ds", words[0])}
    assert {("failed", "catalog"), ("failed", "benchmark_table_rows")} <= steps, out
    # the checks of a skipped asset are skipped with it, as one step named after it
    assert {("skipped", "results"), ("skipped", "results_checks")} <= steps, out
    assert "step catalog failed: " in err and "Dependencies for step" not in err
    assert f"so nothing was published; the published warehouse {warehouse} was left as it was" in err
    assert (tmp_path / "dagster_home" / "dagster.yaml").is_file()


def test_a_state_directory_that_cannot_be_used_fails_with_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "not_a_folder").write_text("the state directory cannot be created under a file")
    for variable, value in {"DAGSTER_HOME": dagster_home(tmp_path / "dagster_home"), "SOTABOARD_SOURCE": "snapshot",
                            "SOTABOARD_WAREHOUSE": tmp_path / "out" / "sotaboard.duckdb",
                            "SOTABOARD_STATE_DIR": tmp_path / "not_a_folder" / "state"}.items():
        monkeypatch.setenv(variable, str(value))
    assert main(["run"]) == 1
    _, err = capsys.readouterr()
    assert err.strip().splitlines() == [
        f"sotaboard run failed: the state directory {tmp_path / 'not_a_folder' / 'state'} cannot be used "
        f"(NotADirectoryError: Not a directory); nothing was published"]


def test_flags_reach_the_run_without_changing_the_environment_and_an_empty_snapshot_runs(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(tmp_path / "dagster_home")))
    for variable in ("SOTABOARD_WAREHOUSE", "SOTABOARD_SNAPSHOT", "SOTABOARD_SOURCE", "SOTABOARD_STATE_DIR"):
        monkeypatch.delenv(variable, raising=False)
    warehouse = tmp_path / "out" / "flagged.duckdb"
    assert main(["run", "--snapshot", str(empty), "--warehouse", str(warehouse)]) == 0
    # the flags were handed to the job: it published where they said, its state beside that file
    assert warehouse.is_file() and (warehouse.parent / ".state" / "work.duckdb").is_file()
    out = capsys.readouterr().out
    assert f"published {warehouse}" in out
    # an empty snapshot runs to the end and says what it lacked
    assert "snapshot lacks: arxiv/, hub/cards/, hub/leaderboards/, hub/models/, tables/" in out
    assert "results 0" in out
    # and were not written into this process's environment on the way
    assert "SOTABOARD_WAREHOUSE" not in os.environ and "SOTABOARD_SNAPSHOT" not in os.environ


def test_a_failed_blocking_check_exits_2_and_publishes_nothing(tmp_path, monkeypatch, capsys):
    """A check that finds violations is a failed check, not a failed step: exit 2, the check named, the
    published file left as it was; a WARN check that finds some only warns."""
    planted = [Check("results", "results_planted_violation", "a check that always finds a row", "SELECT 1 AS row"),
               Check("results", "results_planted_warning", "a warning that always finds a row", "SELECT 1 AS row",
                     dg.AssetCheckSeverity.WARN)]
    monkeypatch.setattr(checks, "CHECKS", [*checks.CHECKS, *planted])
    monkeypatch.setattr(definitions, "asset_checks",
                        [c for asset in sql_assets() if (c := checks.checks_of(asset)) is not None])
    empty, warehouse = tmp_path / "empty", tmp_path / "out" / "sotaboard.duckdb"
    empty.mkdir()
    warehouse.parent.mkdir()
    duckdb.connect(str(warehouse)).close()
    published = warehouse.read_bytes()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(tmp_path / "dagster_home")))
    assert main(["run", "--snapshot", str(empty), "--warehouse", str(warehouse)]) == 2
    out, err = capsys.readouterr()
    steps = {tuple(words[1:]) for words in map(str.split, out.splitlines()) if words and re.fullmatch(r"\d+\.\ds", words[0])}
    assert {("failed", "results_checks"), ("skipped", "published_warehouse")} <= steps, out
    assert "checks failed: results_planted_violation" in out and "results_planted_warning" in out
    assert "step results_checks failed" not in err
    assert f"blocking check(s) results_planted_violation failed, so nothing was published; the published " \
           f"warehouse {warehouse} was left as it was" in err
    assert warehouse.read_bytes() == published
