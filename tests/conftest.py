"""Shared fixtures: paths, the installed CLI, and environments that keep tests off the network."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import BUNDLED_SNAPSHOT

PROJECT = Path(__file__).resolve().parent.parent
# Small real files copied from the shared collection (tests/data/README.md says which and whence),
# in the collection's own layout: every test that reads real data reads these.
REAL_DATA = Path(__file__).resolve().parent / "data" / "shared"
# The whole collection, when it is beside the project: more real cases for some tests, never needed.
SHARED = PROJECT.parent / "shared"
SOTABOARD = Path(sys.executable).parent / "sotaboard"


# The tests' Dagster instances: the project's configuration (pipelines/dagster.yaml) with the event
# log kept in memory by Dagster's InMemoryEventLogStorage (runs are still recorded in DAGSTER_HOME).
# Writing each event to SQLite is a third of a `sotaboard run`'s CPU, and no test reads the events
# back but the token canary (test_security), which keeps the project's own configuration.
EVENTS_IN_MEMORY = """
event_log_storage:
  module: dagster._core.storage.event_log
  class: InMemoryEventLogStorage
"""


def dagster_home(folder: Path, events_in_memory: bool = True) -> Path:
    """`folder` as a Dagster home with the tests' instance configuration (EVENTS_IN_MEMORY), unless it
    has one already or `events_in_memory` is off (then `sotaboard run` copies in the project's)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "dagster.yaml"
    if events_in_memory and not config.exists():
        config.write_text((PROJECT / "pipelines" / "dagster.yaml").read_text() + EVENTS_IN_MEMORY)
    return folder


def offline_env(tmp: Path, events_in_memory: bool = True, **extra: str) -> dict[str, str]:
    """Environment for a child process: its own Dagster home and state, no telemetry, no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOTABOARD_", "HF_", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(dagster_home(tmp / "dagster_home", events_in_memory)),
        HF_HOME=str(tmp / "hf_home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_OFFLINE="1",
        DAGSTER_DISABLE_TELEMETRY="1",
    )
    env.update(extra)
    return env


def sotaboard(*args: str, env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(SOTABOARD), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def varchar_values(path: Path) -> str:
    """Every value of every VARCHAR-bearing column (VARCHAR, lists, JSON, MAP, STRUCT) of every table of
    a DuckDB file, concatenated: what a search for a leaked string must cover."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        parts = []
        for schema, table, column in con.execute(
                "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE NOT internal "
                "AND (data_type LIKE '%VARCHAR%' OR data_type LIKE '%JSON%' OR data_type LIKE 'MAP%' "
                "OR data_type LIKE 'STRUCT%')").fetchall():
            value = con.execute(f'SELECT string_agg("{column}"::VARCHAR, chr(10)) FROM "{schema}"."{table}"').fetchone()
            parts.append(value[0] or "")
        return "\n".join(parts)
    finally:
        con.close()


# The test files that cost the most, costliest first (seconds each took in a whole-suite run on the
# 2-core reference machine). `--dist loadfile` hands files to the workers in collection order
# (pyproject sets `--no-loadscope-reorder`, which would otherwise queue the files with the most tests
# first and these few-test, long files last): starting the longest files first lets the short ones
# fill in at the end, so neither worker idles while the other finishes a long file.
COSTLIEST_FILES = ["test_live_outage.py",       # ~60 s
                   "test_site.py",              # ~50
                   "test_live_faults.py",       # ~50
                   "test_lake.py",              # ~45
                   "test_live_requests.py",     # ~40
                   "test_reliability.py",       # ~30, after the session's bundled run
                   "test_hub_live.py", "test_first_hour.py", "test_security.py", "test_hostile_inputs.py",
                   "test_arxiv_ingest.py", "test_tables_incremental.py", "test_end_to_end.py",
                   "test_bench_generator.py", "test_tables.py"]  # 15-35


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker more than the machine has cores, so that one file's waits (a server or a
    cluster starting, a timeout running out, a process being killed) overlap another file's work."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The costliest files first (COSTLIEST_FILES), then the others in their usual order."""
    rank = {name: position for position, name in enumerate(COSTLIEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def bundled_snapshot() -> Path:
    return BUNDLED_SNAPSHOT


@dataclass(frozen=True)
class BundledRun:
    """`sotaboard run` on the bundled snapshot in `folder` (published file `folder/sotaboard.duckdb`,
    state `folder/.state`, Dagster home and HF home of `offline_env(folder)`), and what it printed on stdout."""

    folder: Path
    stdout: str

    def copy(self, dest: Path) -> tuple[Path, dict[str, str]]:
        """The run's whole folder copied to `dest`, as that run would have left it there: the published
        file and the environment that continues from it (its state and Dagster home)."""
        shutil.copytree(self.folder, dest)
        return dest / "sotaboard.duckdb", offline_env(dest)


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory, worker_id) -> BundledRun:
    """The nightly job on the bundled snapshot through the CLI, run once for the whole session: the
    xdist workers share it (the first that asks runs it under a lock, the others read it). Tests that
    change it take a copy (`BundledRun.copy`)."""
    base = tmp_path_factory.getbasetemp()
    root = base if worker_id == "master" else base.parent
    folder, printed = root / "bundled_run", root / "bundled_run.stdout"
    with open(root / "bundled_run.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not printed.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            done = sotaboard("run", "--warehouse", str(folder / "sotaboard.duckdb"), env=offline_env(folder),
                             cwd=folder)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            printed.write_text(done.stdout)
    return BundledRun(folder, printed.read_text())


def real_files(folder: str, pattern: str) -> list[Path]:
    """The files of tests/data/shared/<folder> matching `pattern`, plus those of ../shared/data/<folder>
    when the collection is beside the project (a name in both is the same file: the copy is kept)."""
    found = {path.name: path for path in (REAL_DATA / folder).glob(pattern)}
    for path in (SHARED / "data" / folder).glob(pattern):
        found.setdefault(path.name, path)
    return [found[name] for name in sorted(found)]


@pytest.fixture(scope="session")
def real_data() -> Path:
    """tests/data/shared: real Papers with Code tables, Hub cards and API bodies, arXiv feeds."""
    return REAL_DATA


@pytest.fixture(scope="module")
def macros():
    """A DuckDB connection holding the warehouse's macros (warehouse/sql/create_macros.sql)."""
    from warehouse import sql

    con = duckdb.connect()
    con.execute(sql("create_macros"))
    yield con
    con.close()


def parse(con: duckdb.DuckDBPyConnection, text: str | None) -> dict:
    """`parse_score(text)` as the warehouse computes it."""
    return con.execute("SELECT parse_score(?)", [text]).fetchall()[0][0]


@pytest.fixture()
def server():
    """A replay HTTP server on 127.0.0.1 (`replay.py`), stopped after the test."""
    from replay import ReplayServer

    replay = ReplayServer().start()
    yield replay
    replay.stop()
