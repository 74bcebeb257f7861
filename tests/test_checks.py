"""Asset checks pass on a clean build and fail when the tables are broken."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest
from pipeline_harness import build, failed_checks, write_curated

from assets import analytics, checks, core
from warehouse.database import WarehouseResource


def evaluate(warehouse) -> dict[str, bool]:
    """Every check's outcome on the working database, by name."""
    with warehouse.connect() as con:
        return {check.name: checks.evaluate(check, con).passed for check in checks.CHECKS}


def test_every_check_runs_in_the_check_step_of_the_asset_that_builds_its_table():
    steps = {key: definition.node_def.name for definition in checks.asset_checks for key in definition.check_keys}
    assert set(steps) == {dg.AssetCheckKey(dg.AssetKey(check.asset), check.name) for check in checks.CHECKS}
    assert steps[dg.AssetCheckKey(dg.AssetKey("leaderboard"), "leaderboard_rank_within_n")] == "leaderboard_checks"
    assert steps[dg.AssetCheckKey(dg.AssetKey("metric_rules"), "metric_rules_key_unique_not_null")] == "metrics_checks"


@pytest.fixture(scope="module")
def built_state(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("checks")
    write_curated(tmp / "snap", [
        {"model_name": name, "benchmark": "Toy", "task": "Text Classification", "metric": "accuracy", "value": value}
        for name, value in [("A", "90"), ("B", "80"), ("C", "70")]
    ])
    result, warehouse = build(tmp / "snap", tmp / "state")
    assert result.success and failed_checks(result) == []
    return warehouse.working_path.parent


@pytest.fixture
def clean(built_state, tmp_path):
    """A private copy of the built working database, free to break."""
    shutil.copytree(built_state, tmp_path / "state")
    return WarehouseResource(path=str(tmp_path / "published.duckdb"), state_dir=str(tmp_path / "state"))


def test_all_checks_pass_on_a_clean_build(clean):
    assert all(evaluate(clean).values())


@pytest.mark.parametrize("breakage, failing", [
    ("INSERT INTO models (model_id) SELECT model_id FROM models LIMIT 1", "models_key_unique_not_null"),
    ("INSERT INTO results (result_id, model_id, benchmark_id, metric) VALUES ('x', 'ghost', 'toy', 'accuracy')",
     "results_model_id_references_models"),
    ("UPDATE leaderboard SET rank = n_models + 1 WHERE rank = 3", "leaderboard_rank_within_n"),
    ("UPDATE leaderboard SET rank = 2 WHERE rank = 1", "leaderboard_every_group_has_sota"),
    ("DELETE FROM leaderboard WHERE rank = 3", "leaderboard_n_matches_rows"),
    ("UPDATE results SET value = 140 WHERE unit = 'percent'", "results_percent_in_range"),
    ("UPDATE results SET verified = true, conflict = true", "results_verified_not_in_conflict"),
    ("INSERT INTO quarantine VALUES ('tables', 'k', '', NULL, now())", "quarantine_has_reasons"),
    ("INSERT INTO quarantine VALUES ('tables', 'k', 'r', '-', now())", "quarantine_payloads_are_json"),
    ("INSERT INTO quarantine VALUES ('tables', 'k', 'r', '[1]', now())", "quarantine_payloads_are_json"),
])
def test_broken_tables_fail_their_check(clean, breakage, failing):
    with clean.connect() as con:
        con.execute(breakage)
    outcome = evaluate(clean)
    assert outcome[failing] is False
    assert sum(not passed for passed in outcome.values()) >= 1


def test_one_check_runs_alone_as_from_the_ui(clean):
    """A check picked alone (as the UI runs one) evaluates that check only, not its step's others;
    broken tables elsewhere in the step do not show."""
    with clean.connect() as con:
        con.execute("UPDATE leaderboard SET rank = n_models + 1 WHERE rank = 3")   # breaks rank_within_n
    picked = dg.AssetCheckKey(dg.AssetKey("leaderboard"), "leaderboard_key_unique_not_null")
    step = next(d for d in checks.asset_checks if picked in d.check_keys)
    assert len(step.check_keys) > 1
    built = dg.load_assets_from_modules([core, analytics])
    job = dg.define_asset_job("one_check", selection=dg.AssetSelection.checks(picked))
    defs = dg.Definitions(assets=built, asset_checks=[step], jobs=[job], resources={"warehouse": clean})
    result = defs.resolve_job_def("one_check").execute_in_process()
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert [(e.check_name, e.passed) for e in evaluations] == [("leaderboard_key_unique_not_null", True)]
