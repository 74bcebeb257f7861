"""The DuckLake warehouse target (`--warehouse ducklake:<catalog>`) on a real PostgreSQL catalog: a
throwaway cluster (initdb in a temporary folder, Unix socket only) started here and stopped at the end."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT, SOTABOARD, offline_env, sotaboard

from pipelines.settings import BUNDLED_SNAPSHOT, Settings
from warehouse.database import (
    DUCKLAKE_EXTENSION,
    POSTGRES_EXTENSION,
    MissingExtension,
    extension_file,
)

# Columns that record when a run happened rather than what it computed (two runs differ there).
RUN_TIME_COLUMNS = {"fetched_at", "seen_at", "last_success_at", "last_run_at", "runs_recorded", "first_seen_at",
                    "last_fetched_at", "sota_age_days"}


@dataclass(frozen=True)
class Postgres:
    """A running throwaway cluster: its binaries and the folder holding its data and its socket."""

    bin: Path
    root: Path
    as_owner: tuple[str, ...]  # the command prefix that runs a server binary as the cluster's owner

    def create_database(self, name: str) -> str:
        """A new database; returns the DuckLake catalog that names it (`postgres:dbname=… host=…`)."""
        subprocess.run([str(self.bin / "createdb"), "-h", str(self.root), "-U", "postgres", name],
                       check=True, capture_output=True)
        return f"postgres:dbname={name} host={self.root} user=postgres"

    def psql(self, database: str) -> subprocess.Popen:
        return subprocess.Popen([str(self.bin / "psql"), "-h", str(self.root), "-U", "postgres", "-d", database,
                                 "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def query(self, database: str, sql: str) -> str:
        return subprocess.run([str(self.bin / "psql"), "-h", str(self.root), "-U", "postgres", "-d", database,
                               "-X", "-A", "-t", "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Postgres:
    # on PATH, or where Debian's postgresql package puts it (off PATH), the newest version
    packaged = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3].split(".")[0]))
    initdb = shutil.which("initdb") or (str(packaged[-1]) if packaged else None)
    if initdb is None:
        pytest.skip("initdb is missing: PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run "
                    "installs it)")
    bindir = Path(initdb).resolve().parent
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: the cluster runs as the `postgres` account, in a folder it
        # owns (pytest's temporary root is private to root, so the folder is made beside it)
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no `postgres` account to run the PostgreSQL cluster as")
        root = Path(tempfile.mkdtemp(prefix="sotaboard-pg-"))
        os.chmod(root, 0o755)
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_owner: tuple[str, ...] = ("runuser", "-u", "postgres", "--")
    else:
        root = tmp_path_factory.mktemp("pg")
        as_owner = ()
    data = root / "data"
    cluster = Postgres(bindir, root, as_owner)
    try:
        subprocess.run([*as_owner, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                        "--no-sync"], check=True, capture_output=True)
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
                        "-o", f"-c listen_addresses='' -c unix_socket_directories='{root}' -c fsync=off", "start"],
                       check=True, capture_output=True)
        yield cluster
    finally:
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def changed_snapshot(source: Path, target: Path) -> Path:
    """A copy of `source` where one upstream number was corrected: XLM-R's XNLI accuracy 83.6 -> 84.6."""
    shutil.copytree(source, target)
    csv = target / "tables" / "xnli.csv"
    text = csv.read_text()
    assert text.count(",accuracy,83.6,") == 1
    csv.write_text(text.replace(",accuracy,83.6,", ",accuracy,84.6,"))
    return target


def lake_connection(catalog: str, alias: str = "lake", options: str = "READ_ONLY") -> duckdb.DuckDBPyConnection:
    """An analyst's connection: the extensions loaded from their packages, the lake attached read-only."""
    con = duckdb.connect()
    for name, package in (DUCKLAKE_EXTENSION, POSTGRES_EXTENSION):
        con.execute(f"LOAD '{extension_file(name, package)}'")
    con.execute(f"ATTACH 'ducklake:{catalog}' AS {alias} ({options})")
    return con


def snapshot_ids(con: duckdb.DuckDBPyConnection, alias: str = "lake") -> list[int]:
    return [s for (s,) in con.execute(f"SELECT snapshot_id FROM {alias}.snapshots() ORDER BY 1").fetchall()]


def relation_rows(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple]]:
    """Every relation of `database` (tables and views), its columns and types, and its rows without
    the run-time columns, sorted."""
    rows = {}
    for (name,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
                               "AND table_schema = 'main' ORDER BY 1", [database]).fetchall():
        columns = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
                              "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                              [database, name]).fetchall()
        select = ", ".join(f'"{c}"::VARCHAR' for c, _ in columns if c not in RUN_TIME_COLUMNS)
        rows[name] = [tuple(columns), *sorted(con.execute(f'SELECT {select} FROM {database}.main."{name}"').fetchall(),
                                              key=repr)]
    return rows


def lake_run(tmp: Path, catalog: str, snapshot: Path, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
    env = offline_env(tmp, SOTABOARD_WAREHOUSE=f"ducklake:{catalog}", SOTABOARD_LAKE_DATA=str(tmp / "lake_data"),
                      SOTABOARD_STATE_DIR=str(tmp / "state"), SOTABOARD_SNAPSHOT=str(snapshot))
    if popen:
        return subprocess.Popen([str(SOTABOARD), "run"], env=env, cwd=tmp, text=True, **popen)
    return sotaboard("run", env=env, cwd=tmp)


def data_files(tmp: Path) -> set[Path]:
    return set((tmp / "lake_data").rglob("*.parquet"))


@pytest.fixture(scope="module")
def lake(postgres, bundled_run, tmp_path_factory):
    """The bundled snapshot published into a lake (and into a file: the session's run,
    conftest.bundled_run), then a second lake publish after a one-number change, with a reader that
    attached (and began reading) before it."""
    tmp = tmp_path_factory.mktemp("lake")
    file = bundled_run.folder / "sotaboard.duckdb"

    catalog = postgres.create_database("sotaboard")
    first = lake_run(tmp, catalog, BUNDLED_SNAPSHOT)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "lake snapshot" in first.stdout
    first_files = data_files(tmp)

    reader = lake_connection(catalog)
    reader.execute("BEGIN")
    before = reader.execute("SELECT value FROM lake.results WHERE model_id = 'FacebookAI/xlm-roberta-large' "
                            "AND benchmark_id = 'xnli' AND setting = 'translate-train-all'").fetchall()
    snapshots_before = snapshot_ids(reader)

    second = lake_run(tmp, catalog, changed_snapshot(BUNDLED_SNAPSHOT, tmp / "changed"))
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return dict(tmp=tmp, file=file, catalog=catalog, first_files=first_files, reader=reader, before=before,
                snapshots_before=snapshots_before, second=second, postgres=postgres)


@pytest.mark.slow
def test_the_same_snapshot_gives_the_same_relations_in_file_and_lake(lake, postgres):
    # the first lake snapshot (the publish of the bundled snapshot) against the file of the same snapshot
    con = lake_connection(lake["catalog"], options=f"READ_ONLY, SNAPSHOT_VERSION {lake['snapshots_before'][-1]}")
    con.execute(f"ATTACH '{lake['file']}' AS file (READ_ONLY)")
    in_lake, in_file = relation_rows(con, "lake"), relation_rows(con, "file")
    assert sorted(in_lake) == sorted(in_file)
    assert len(in_file) >= 29
    for name in in_file:
        assert in_lake[name] == in_file[name], name


@pytest.mark.slow
def test_a_run_after_a_change_adds_one_snapshot_and_writes_fewer_files(lake):
    con = lake_connection(lake["catalog"])
    after = snapshot_ids(con)
    assert after == [*lake["snapshots_before"], lake["snapshots_before"][-1] + 1]
    written = data_files(lake["tmp"]) - lake["first_files"]
    assert len(written) < len(lake["first_files"])
    assert f"lake snapshot {after[-1]}" in lake["second"].stdout
    # what changed is the corrected number, and the leaderboard rows it moves
    assert con.execute("SELECT count(*) FROM lake.results WHERE model_id = 'FacebookAI/xlm-roberta-large' "
                       "AND benchmark_id = 'xnli' AND value = 84.6").fetchone()[0] == 1
    # the publish wrote the tables the correction reaches, and only those (models, papers, benchmarks,
    # metrics did not change: not a row of theirs was written)
    summary = next(line for line in lake["second"].stdout.splitlines() if line.startswith("lake snapshot"))
    written_tables = {part.split()[0] for part in summary.split(": ", 1)[1].split(";")[0].split(", ")}
    assert {"results", "leaderboard"} <= written_tables
    assert not written_tables & {"models", "papers", "benchmarks", "metrics", "model_aliases"}


@pytest.mark.slow
def test_the_publish_of_a_change_holds_what_a_build_from_scratch_publishes(lake, tmp_path):
    """The second lake snapshot (the difference written into the first) against the file that a
    run from scratch publishes from the changed snapshot: every relation, row for row."""
    file = tmp_path / "sotaboard.duckdb"
    scratch = sotaboard("run", "--snapshot", str(lake["tmp"] / "changed"), "--warehouse", str(file),
                        env=offline_env(tmp_path), cwd=tmp_path)
    assert scratch.returncode == 0, scratch.stdout[-3000:] + scratch.stderr[-3000:]
    second = lake["snapshots_before"][-1] + 1
    con = lake_connection(lake["catalog"], options=f"READ_ONLY, SNAPSHOT_VERSION {second}")
    con.execute(f"ATTACH '{file}' AS file (READ_ONLY)")
    in_lake, in_file = relation_rows(con, "lake"), relation_rows(con, "file")
    assert sorted(in_lake) == sorted(in_file)
    for name in in_file:
        assert in_lake[name] == in_file[name], name
    con.close()


@pytest.mark.slow
def test_a_reader_attached_before_a_publish_keeps_its_snapshot(lake):
    reader = lake["reader"]
    again = reader.execute("SELECT value FROM lake.results WHERE model_id = 'FacebookAI/xlm-roberta-large' "
                           "AND benchmark_id = 'xnli' AND setting = 'translate-train-all'").fetchall()
    assert again == lake["before"] and (83.6,) in again
    assert snapshot_ids(reader) == lake["snapshots_before"]
    reader.execute("COMMIT")
    assert (84.6,) in reader.execute("SELECT value FROM lake.results WHERE model_id = 'FacebookAI/xlm-roberta-large' "
                                     "AND benchmark_id = 'xnli' AND setting = 'translate-train-all'").fetchall()
    reader.close()


@pytest.mark.slow
def test_the_documented_lake_queries_run(lake):
    """warehouse/README.md "Reading the lake", on this lake, its date made now (the lake is younger)."""
    text = (PROJECT / "warehouse" / "README.md").read_text().split("## Reading the lake", 1)[1]
    block = re.search(r"```sql\n(.*?)```", text, re.S).group(1)
    now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
    block = block.replace("postgres:dbname=sotaboard host=db.internal", lake["catalog"]).replace(
        "2026-11-30 23:59:59+00", now)
    con = lake_connection(lake["catalog"], alias="analyst")
    results = [con.execute(statement).fetchall() for statement in block.split(";") if statement.strip()]
    snapshots, on_date, at_version, _, page = results[1:]
    assert len(snapshots) == len(snapshot_ids(con, "analyst"))
    assert ("translate-train-all", 3, "FacebookAI/xlm-roberta-large", 84.6) in on_date  # from #4
    assert ("translate-train-all", 4, "FacebookAI/xlm-roberta-large", 83.6) in at_version
    assert any(row[:4] == ("XNLI", "accuracy", "translate-train-all", 84.6) for row in page)


@pytest.mark.slow
def test_a_publish_killed_mid_commit_leaves_the_previous_snapshot_readable(lake, postgres):
    tmp, catalog = lake["tmp"], lake["catalog"]
    con = lake_connection(catalog)
    known, rows = snapshot_ids(con), relation_rows(con, "lake")
    con.close()
    # hold the catalog's commits: a transaction that locks DuckLake's snapshot table against writes
    # (reads go on), so the run below writes its data files and then waits in its commit
    holder = postgres.psql("sotaboard")
    holder.stdin.write("BEGIN; LOCK TABLE ducklake_snapshot IN EXCLUSIVE MODE; SELECT 'locked';\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "locked"
    # a run of an empty snapshot: it reaches its publish soonest, and would empty every table
    empty = tmp / "empty"
    empty.mkdir()
    run = lake_run(tmp, catalog, empty, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        waiting = "SELECT count(*) FROM pg_locks AS l JOIN pg_class AS c ON c.oid = l.relation " \
                  "WHERE c.relname = 'ducklake_snapshot' AND NOT l.granted"
        while postgres.query("sotaboard", waiting) == "0":
            assert run.poll() is None, "the run ended before its publish reached the commit"
            assert time.monotonic() < deadline, "the run's publish never reached the commit"
            time.sleep(0.2)
        os.kill(run.pid, signal.SIGKILL)
        assert run.wait(timeout=60) == -signal.SIGKILL
    finally:
        if run.poll() is None:
            run.kill()
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        holder.wait(timeout=60)
    con = lake_connection(catalog)
    assert snapshot_ids(con) == known
    assert relation_rows(con, "lake") == rows
    con.close()


def test_a_lake_target_names_its_catalog_data_and_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"SOTABOARD_WAREHOUSE": "ducklake:postgres:dbname=sotaboard host=/run/pg"})
    assert settings.lake_catalog == "postgres:dbname=sotaboard host=/run/pg" and settings.warehouse_path is None
    assert settings.warehouse_target == "ducklake:postgres:dbname=sotaboard host=/run/pg"
    assert settings.state_dir == tmp_path / ".state" and settings.lake_data == tmp_path / "lake_data"
    local = Settings.from_env({"SOTABOARD_WAREHOUSE": "ducklake:catalog.ducklake", "SOTABOARD_LAKE_DATA": "files",
                               "SOTABOARD_STATE_DIR": "/var/sotaboard"})
    assert local.lake_catalog == str(tmp_path / "catalog.ducklake") and local.lake_data == tmp_path / "files"
    assert local.state_dir == Path("/var/sotaboard")
    file = Settings.from_env({"SOTABOARD_WAREHOUSE": "out/sotaboard.duckdb"})
    assert file.lake_catalog is None and file.lake_data is None and file.state_dir == tmp_path / "out" / ".state"


def test_a_missing_extension_package_is_named():
    assert extension_file(*DUCKLAKE_EXTENSION).is_file()
    with pytest.raises(MissingExtension, match=r"install the package duckdb-extension-absent==1\.5\.5"):
        extension_file("absent", "duckdb-extension-absent")
