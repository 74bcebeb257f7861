"""The warehouse resource: the working DuckDB database every asset builds, the published file (or the
DuckLake) analysts read, and the run lock that keeps one run at a time per state directory."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from warehouse import LAKE_PREFIX, REFERENCE_DIR, sql
from warehouse import tables as registry_tables

LOCK_WAIT_SECONDS = 120
CHECKPOINT_THRESHOLD = "4GB"  # write-ahead log size that forces a checkpoint inside a step
PUBLISH_COPIERS = min(4, os.cpu_count() or 1)  # tables copied at once into the published file
# the extensions a lake target loads, each from the Python package that holds its file (loaded by path:
# nothing is downloaded at run time); postgres_scanner only for a PostgreSQL catalog
DUCKLAKE_EXTENSION = ("ducklake", "duckdb-extension-ducklake")
POSTGRES_EXTENSION = ("postgres_scanner", "duckdb-extension-postgres-scanner")


def _is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


class MissingExtension(RuntimeError):
    """A DuckDB extension the lake target needs is not installed (as its Python package)."""


def extension_file(name: str, package: str) -> Path:
    """The file of DuckDB extension `name`, for this DuckDB version, inside the installed Python
    package `package` (`duckdb-extension-ducklake` holds `extensions/v1.5.5/ducklake.duckdb_extension`)."""
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
        if path.is_file():
            return path
    raise MissingExtension(f"the DuckDB extension {name} is missing: install the package "
                           f"{package}=={duckdb.__version__} (extensions are loaded from installed packages, "
                           f"never downloaded at run time)")


class WarehouseResource(dg.ConfigurableResource):
    """The working DuckDB database every asset writes, and the warehouse analysts read.

    Assets build into `<state_dir>/work.duckdb`; only `publish` touches the published warehouse.
    `path` is a DuckDB file, or `ducklake:<catalog>` for a DuckLake. A file is published by writing a
    complete new file beside it and renaming it over the old one; a lake by one DuckLake transaction
    that writes the rows that changed. Either way readers never block a run and never see a
    half-built warehouse.
    """

    path: str
    state_dir: str
    # the lake's data files (a lake target only)
    lake_data: str = ""
    # publish although a source failed wholesale tonight (its entities keep their last good data, stale)
    publish_anyway: bool = False
    _prepared: bool = PrivateAttr(default=False)

    @property
    def published_path(self) -> Path:
        if self.lake_catalog:
            raise ValueError(f"the warehouse is a lake ({self.path}), not a file")
        return Path(self.path)

    @property
    def lake_catalog(self) -> str | None:
        """The catalog of a `ducklake:<catalog>` target, as DuckLake's ATTACH takes it; None for a file."""
        return self.path.removeprefix(LAKE_PREFIX) if self.path.startswith(LAKE_PREFIX) else None

    @property
    def working_path(self) -> Path:
        return Path(self.state_dir) / "work.duckdb"

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseResource"]:
        """For as long as a run (or a `materialize`) uses the warehouse, it holds the state
        directory's run lock (`exclusive_run`): a second run on the same state directory, from the
        CLI, the Dagster UI or the schedule, fails at once instead of interleaving its steps."""
        with exclusive_run(Path(self.state_dir)):
            # The run keeps the working database open from its first step to its last: each step's
            # `connect` then joins this open database (DuckDB shares it within the process) instead of
            # loading it from the file again, which cost each of a run's ~50 steps and checks about
            # 25 ms of CPU. A database that cannot be opened now is not kept: each step then meets (and
            # reports) the problem when it connects, or waits for the writer that holds it.
            try:
                database = duckdb.connect(str(self.working_path))
            except duckdb.Error:
                database = None
            try:
                with super().yield_for_execution(context) as resource:
                    yield resource
            finally:
                if database is not None:
                    database.close()

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
            # loads a million rows in many commits would otherwise rewrite the file at each. (The
            # database stays open for the rest of the run, so closing the connection does not.)
            con.execute("SET checkpoint_threshold = ?", [CHECKPOINT_THRESHOLD])
            con.execute("SET VARIABLE reference_dir = ?", [str(REFERENCE_DIR)])
            if not self._prepared:
                # the raw schema and the macros, once per run (both persist in the file)
                _drop_tables_now_views(con)
                self.run_sql(con, "create_raw_schema")
                self.run_sql(con, "create_macros")
                self._prepared = True
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()

    @staticmethod
    def run_sql(con: duckdb.DuckDBPyConnection, name: str, **variables: object) -> None:
        """Run `warehouse/sql/<name>.sql`; inputs are bound as DuckDB variables (`getvariable('x')`)."""
        for key, value in variables.items():
            con.execute(f"SET VARIABLE {key} = ?", [value])
        con.execute(sql(name))

    @staticmethod
    def replace_rows(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], query: str) -> None:
        """Make `table` hold exactly the rows of `query` (the table's columns, by name and in order;
        unique in `key`), writing only the rows that differ (`write_difference`): an unchanged row
        costs no write, so a run that changed little commits little."""
        con.execute(f"CREATE OR REPLACE TEMP TABLE replacing_rows AS {query}")
        write_difference(con, table, "replacing_rows", key)
        con.execute("DROP TABLE replacing_rows")

    def publish(self, tables: list[str], view_sql: list[str]) -> dict[str, dg.MetadataValue]:
        """Publish `tables` and the views (`view_sql`: the SQL files that create them) into the
        file or the lake; returns what was published, as asset metadata."""
        if self.lake_catalog:
            return self._publish_to_lake(tables, view_sql)
        path = self._publish_file(tables, view_sql)
        return {"path": dg.MetadataValue.path(str(path)), "bytes": dg.MetadataValue.int(path.stat().st_size)}

    def _publish_file(self, tables: list[str], view_sql: list[str]) -> Path:
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

    def _publish_to_lake(self, tables: list[str], view_sql: list[str]) -> dict[str, dg.MetadataValue]:
        """Write into the lake, in ONE transaction (one DuckLake snapshot), only what differs from
        what it holds: per table, the rows gone or changed are deleted (matched by the registry's
        key, or by the whole row for a table without one) and the rows new or changed inserted. A
        table that is new, or whose columns changed, is created whole. The views are recreated at
        every publish (a view writes no data file). A publish that fails or is killed before its
        commit leaves the lake at its previous snapshot; its data files written so far are orphans
        (`ducklake_delete_orphaned_files` removes them)."""
        catalog = self.lake_catalog
        data = Path(self.lake_data)
        data.mkdir(parents=True, exist_ok=True)
        keys = {table.name: table.key for table in registry_tables()}
        files_before = _data_files(data)
        with self.connect() as con:
            con.execute("SET autoinstall_known_extensions = false")
            needed = [DUCKLAKE_EXTENSION, *([POSTGRES_EXTENSION] if catalog.startswith("postgres:") else [])]
            for name, package in needed:
                con.execute(f"LOAD {_sql_string(extension_file(name, package))}")
            con.execute(f"ATTACH {_sql_string(LAKE_PREFIX + catalog)} AS lake "
                        f"(DATA_PATH {_sql_string(str(data.absolute()) + os.sep)})")
            try:
                changed: dict[str, str] = {}
                con.execute("BEGIN")
                try:
                    for table in tables:
                        if outcome := _write_changes(con, table, keys.get(table, ())):
                            changed[table] = outcome
                    con.execute("USE lake")
                    for name in view_sql:
                        con.execute(sql(name))
                    con.execute("COMMIT")
                except BaseException:
                    with suppress(duckdb.Error):  # a COMMIT that failed has ended the transaction already
                        con.execute("ROLLBACK")
                    raise
                finally:
                    con.execute("USE work")
                snapshot = con.execute("SELECT id FROM ducklake_last_committed_snapshot('lake')").fetchone()[0]
            finally:
                con.execute("DETACH lake")
        return {
            "lake": dg.MetadataValue.text(LAKE_PREFIX + _without_password(catalog)),
            "snapshot_id": dg.MetadataValue.int(snapshot),
            "data_files_written": dg.MetadataValue.int(len(_data_files(data) - files_before)),
            "tables_changed": dg.MetadataValue.json(changed),
        }


def _write_changes(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...]) -> str:
    """Make `lake.main.<table>` hold the rows of the working `main.<table>`, writing only the
    difference; returns what was written ('' when nothing)."""
    lake, work = f'lake.main."{table}"', f'work.main."{table}"'
    columns = "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main' " \
              "AND table_name = ? ORDER BY column_index"
    held = con.execute(columns, ["lake", table]).fetchall()
    if held != con.execute(columns, ["work", table]).fetchall():
        con.execute(f"CREATE OR REPLACE TABLE {lake} AS FROM {work}")
        return "created" if not held else "recreated (columns changed)"
    deleted, inserted = write_difference(con, lake, work, key)
    return f"{deleted} deleted, {inserted} inserted" if deleted or inserted else ""


def write_difference(con: duckdb.DuckDBPyConnection, target: str, source: str, key: tuple[str, ...]) -> tuple[int, int]:
    """Make the table `target` hold the rows of `source` (the target's columns, by name and in
    order, of types that cast to the target's), writing only what differs; returns (rows deleted,
    rows inserted). With a `key` (unique on both sides): the keys whose row is gone, new or changed,
    found by one join of each side's keys and 64-bit row hashes, which reads each side once (EXCEPT
    ALL each way reads each side twice, ten times as long at 1M rows); their rows are deleted, then
    inserted from `source`. Without a key, whole rows are compared by EXCEPT ALL, so that a row's
    copies count."""
    if not key:
        deleted = con.execute(f"DELETE FROM {target} AS r WHERE r IN "
                              f"(SELECT r FROM (FROM {target} EXCEPT ALL FROM {source}) AS r)").fetchone()[0]
        inserted = con.execute(f"INSERT INTO {target} FROM {source} EXCEPT ALL FROM {target}").fetchone()[0]
        return deleted, inserted
    # the source's cells cast to the target's types (a DECIMAL literal would hash unlike the DOUBLE it
    # is stored as); keys compared NULL-safely, so that a row whose key holds a NULL pairs with itself
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {target})").fetchall())
    columns = ", ".join(f'"{column}"' for column in key)
    cast = ", ".join(f'r."{column}"::{type_} AS "{column}"' for column, type_ in types.items())
    either = ", ".join(f'coalesce(held."{column}", wanted."{column}") AS "{column}"' for column in key)
    same_key = " AND ".join(f'held."{column}" IS NOT DISTINCT FROM wanted."{column}"' for column in key)
    con.execute(f"CREATE OR REPLACE TEMP TABLE changed_keys AS "
                f"SELECT {either}, held.row_hash IS NOT NULL AS held, wanted.row_hash IS NOT NULL AS wanted "
                f"FROM (SELECT {columns}, hash(r) AS row_hash FROM (FROM {target}) AS r) AS held "
                f"FULL JOIN (SELECT {columns}, hash(r) AS row_hash FROM (SELECT {cast} FROM {source} AS r) AS r) AS wanted "
                f"ON {same_key} WHERE held.row_hash IS DISTINCT FROM wanted.row_hash")
    # a key as one value, compared NULL-safely by IN (a semi-join on IS NOT DISTINCT FROM takes twice as long)
    match = f"row({columns})" if len(key) > 1 else f'struct_pack("{key[0]}" := "{key[0]}")'
    changed = f"{match} IN (SELECT {match} FROM changed_keys WHERE {{}})"
    deleted = con.execute(f"DELETE FROM {target} WHERE {changed.format('held')}").fetchone()[0]
    inserted = con.execute(f"INSERT INTO {target} SELECT * FROM {source} WHERE {changed.format('wanted')}").fetchone()[0]
    con.execute("DROP TABLE changed_keys")
    return deleted, inserted


def _data_files(data: Path) -> set[Path]:
    return set(data.rglob("*.parquet"))


def _without_password(catalog: str) -> str:
    """A catalog connection string fit for metadata: any `password=…` masked."""
    return re.sub(r"(password=)\S+", r"\1***", catalog)


def _sql_string(value: object) -> str:
    """`value` as a single-quoted SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _copy_into_published(con: duckdb.DuckDBPyConnection, table: str) -> None:
    with con.cursor() as cursor:
        cursor.execute(f'CREATE TABLE published.main."{table}" AS SELECT * FROM main."{table}"')


def _drop_tables_now_views(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the tables of a working database of an older layout that `create_raw_schema` now makes
    views of the tables they were derived from (a view cannot replace a table)."""
    views = re.findall(r"^CREATE OR REPLACE VIEW raw\.(\w+)", sql("create_raw_schema"), re.M)
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                               "AND schema_name = 'raw' AND list_contains($views, table_name)",
                               {"views": views}).fetchall():
        con.execute(f"DROP TABLE raw.{name}")


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
