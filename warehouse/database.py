"""The warehouse resource: the working DuckDB database every asset builds, the published file analysts
read, and the run lock that keeps one run at a time per state directory."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from warehouse import REFERENCE_DIR, sql

LOCK_WAIT_SECONDS = 120
CHECKPOINT_THRESHOLD = "4GB"  # write-ahead log size that forces a checkpoint inside a step
PUBLISH_COPIERS = min(4, os.cpu_count() or 1)  # tables copied at once into the published file


def _is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


class WarehouseResource(dg.ConfigurableResource):
    """The working DuckDB database every asset writes, and the file analysts read.

    Assets build into `<state_dir>/work.duckdb`; only `publish` touches `path`, by writing a
    complete new file beside it and renaming it over the old one, so readers of the published
    file never block a run and never see a half-built warehouse.
    """

    path: str
    state_dir: str
    # publish although a source failed wholesale tonight (its entities keep their last good data, stale)
    publish_anyway: bool = False
    _prepared: bool = PrivateAttr(default=False)

    @property
    def published_path(self) -> Path:
        return Path(self.path)

    @property
    def working_path(self) -> Path:
        return Path(self.state_dir) / "work.duckdb"

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseResource"]:
        """For as long as a run (or a `materialize`) uses the warehouse, it holds the state
        directory's run lock (`exclusive_run`): a second run on the same state directory, from the
        CLI, the Dagster UI or the schedule, fails at once instead of interleaving its steps."""
        with exclusive_run(Path(self.state_dir)):
            with super().yield_for_execution(context) as resource:
                yield resource

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the working database (waits for a concurrent writer, bounded)."""
        self.working_path.parent.mkdir(parents=True, exist_ok=True)
        con = retry(
            retry=retry_if_exception(_is_lock_conflict),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_delay(LOCK_WAIT_SECONDS),
            reraise=True,
        )(duckdb.connect)(str(self.working_path))
        try:
            # Checkpoint when the asset closes its connection, not every 16 MB of log: a step that
            # loads a million rows in many commits would otherwise rewrite the file at each.
            con.execute("SET checkpoint_threshold = ?", [CHECKPOINT_THRESHOLD])
            con.execute("SET VARIABLE reference_dir = ?", [str(REFERENCE_DIR)])
            if not self._prepared:
                # the raw schema and the macros, once per run (both persist in the file)
                self.run_sql(con, "create_raw_schema")
                self.run_sql(con, "create_macros")
                self._prepared = True
            yield con
        finally:
            con.close()

    @staticmethod
    def run_sql(con: duckdb.DuckDBPyConnection, name: str, **variables: object) -> None:
        """Run `warehouse/sql/<name>.sql`; inputs are bound as DuckDB variables (`getvariable('x')`)."""
        for key, value in variables.items():
            con.execute(f"SET VARIABLE {key} = ?", [value])
        con.execute(sql(name))

    @staticmethod
    def replace_rows(con: duckdb.DuckDBPyConnection, table: str, key: str, query: str) -> None:
        """Make `table` hold exactly the rows of `query` (unique in `key`), writing only the rows that
        differ: an unchanged row costs no write, so a run that changed little commits little."""
        con.execute(f"CREATE OR REPLACE TEMP TABLE replacing_rows AS {query}")
        con.execute(f"DELETE FROM {table} WHERE {key} IN "
                    f"(SELECT {key} FROM (FROM {table} EXCEPT FROM replacing_rows))")
        con.execute(f"INSERT INTO {table} FROM replacing_rows WHERE {key} NOT IN (SELECT {key} FROM {table})")
        con.execute("DROP TABLE replacing_rows")

    def publish(self, tables: list[str], view_sql: list[str]) -> Path:
        """Copy `tables` and the views into a new file and atomically replace the published one."""
        target = self.published_path
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_builds(target)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        with self.connect() as con:
            # DuckDB 1.5 takes no parameter for ATTACH's path: a quoted literal
            con.execute(f"ATTACH {_sql_string(tmp)} AS published (STORAGE_VERSION 'v1.4.0')")
            try:
                # side by side: copying a table of one row group (most of them) keeps one core busy
                with ThreadPoolExecutor(max_workers=PUBLISH_COPIERS) as pool:
                    list(pool.map(lambda table: _copy_into_published(con, table), tables))
                con.execute("USE published")
                for name in view_sql:
                    con.execute(sql(name))
                con.execute("CHECKPOINT")
            finally:
                con.execute("USE work")
                con.execute("DETACH published")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return target


def _sql_string(value: object) -> str:
    """`value` as a single-quoted SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _copy_into_published(con: duckdb.DuckDBPyConnection, table: str) -> None:
    with con.cursor() as cursor:
        cursor.execute(f'CREATE TABLE published.main."{table}" AS SELECT * FROM main."{table}"')


def _remove_abandoned_builds(target: Path) -> None:
    """Delete half-written files of publishes whose process died (a kill -9 mid-publish)."""
    for leftover in target.parent.glob(f".{target.name}.*.tmp*"):
        pid = leftover.name.removeprefix(f".{target.name}.").split(".")[0]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            leftover.unlink(missing_ok=True)
        except PermissionError:
            pass


class RunInProgress(Exception):
    """Another run holds the state directory's run lock."""


_held_run_locks: dict[Path, int] = {}   # state dirs whose run lock this process holds: holders
_held_run_locks_guard = threading.Lock()


@contextmanager
def exclusive_run(state_dir: Path) -> Iterator[Path]:
    """Hold `<state_dir>/run.lock` (an exclusive `flock`) for the duration of a run, or raise
    RunInProgress at once when another process holds it. The lock belongs to the open file: the
    kernel releases it when the run ends, however it ends (a crash or `kill -9` too); the file
    itself stays, naming the last holder. Within one process it is re-entrant: `sotaboard run`
    holds it around the job, and the job's warehouse resource holds it again."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "run.lock"
    key = path.resolve()
    with _held_run_locks_guard:
        if key in _held_run_locks:
            _held_run_locks[key] += 1
            held_here = True
        else:
            held_here = False
    if held_here:
        try:
            yield path
        finally:
            with _held_run_locks_guard:
                _held_run_locks[key] -= 1
        return
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInProgress(f"another run is using {state_dir} ({holder}); "
                                f"nothing was done, try again when it has finished") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {utc_now().isoformat()}\n")
        handle.flush()
        with _held_run_locks_guard:
            _held_run_locks[key] = 1
        try:
            yield path
        finally:
            with _held_run_locks_guard:
                del _held_run_locks[key]


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
