"""Dagster resources: the DuckDB warehouse (working database and published file) and the sources."""

from __future__ import annotations

import os
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

    @property
    def published_path(self) -> Path:
        return Path(self.path)

    @property
    def working_path(self) -> Path:
        return Path(self.state_dir) / "work.duckdb"

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
            con.execute("ATTACH ? AS published (STORAGE_VERSION 'v1.4.0')", [str(tmp)])
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


class SnapshotResource(dg.ConfigurableResource):
    """Where ingest reads source files: the snapshot directory, or in live mode the fetch cache
    that the live clients fill in the same layout (so both modes parse the same files)."""

    source: str
    snapshot_dir: str
    cache_dir: str
    pwc_archive: str = ""  # Hub dataset id of the archived Papers with Code tables (live mode), "" for none

    @property
    def live(self) -> bool:
        return self.source == "live"

    @property
    def root(self) -> Path:
        return Path(self.cache_dir if self.live else self.snapshot_dir)

    def lacking(self, *parts: str) -> list[str]:
        """The parts of the snapshot layout (`hub/models`, `tables`, ...) absent from a snapshot; in
        live mode nothing is lacking (the clients fill the cache)."""
        return [] if self.live else [f"{part}/" for part in parts if not (self.root / part).is_dir()]

    @property
    def catalog_path(self) -> Path:
        """The tracked catalog always comes from the configured snapshot, in both modes."""
        return Path(self.snapshot_dir) / "catalog.yaml"


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
