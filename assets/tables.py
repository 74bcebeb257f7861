"""Benchmark tables: Papers with Code evaluation-tables JSON files and curated CSV files."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from assets.sources.files import (
    FileRefused,
    json_too_deep,
    open_source_file,
    read_source_file,
)
from assets.sources.hub.client import HubResource
from assets.sources.ingest_log import (
    IngestLog,
    code_version,
    failure_payload,
    files_to_read,
)
from assets.sources.snapshot import SnapshotResource
from warehouse import sql
from warehouse.database import WarehouseResource, utc_now

TABLE_FILES = ("*.json", "*.parquet", "*.csv")
# What a file's rows depend on besides its bytes: when this code changes, every file is read again.
PARSER_VERSION = code_version(__file__, *(sql(name) for name in (
    "create_table_docs", "read_table_json_by_shape", "read_table_files", "read_archive_parquet", "benchmark_table_rows",
    "insert_curated_rows", "read_curated_csv", "create_macros")))

CURATED_COLUMNS = (
    "model_id", "model_name", "benchmark", "task", "area", "metric", "value", "split", "setting",
    "paper_url", "paper_title", "result_date", "source_url", "uses_additional_data",
)
CURATED_REQUIRED = ("model_name", "benchmark", "metric", "value")
# Parquet files of the archived Papers with Code tables on the Hub (live mode, SOTABOARD_PWC_ARCHIVE)
ARCHIVE_FILES = ["data/*.parquet", "*.parquet"]
# Table files read at once (each flattening keeps one core busy; memory grows with each)
TABLE_READERS = min(4, os.cpu_count() or 1)


class TableFileRefused(Exception):
    """A whole table file DuckDB cannot read; its reason goes to the quarantine."""


def _load_curated_csv(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource, path: Path, root: Path) -> int:
    """A curated CSV file's rows into raw.table_results (its refusals into table_file_refusals); the rows read."""
    relative = str(path.relative_to(root))
    try:
        warehouse.run_sql(con, "read_curated_csv", source_file=relative, table_file=str(path))
    except duckdb.Error as exc:
        raise TableFileRefused(f"unreadable CSV: {str(exc).splitlines()[0]}") from None
    columns = {row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE curated)").fetchall()}
    missing = [c for c in CURATED_REQUIRED if c not in columns]
    if missing:
        warehouse.run_sql(con, "refuse_table_file", source_file=relative,
                          reason=f"missing required columns: {', '.join(missing)}",
                          payload=failure_payload(file=relative, columns=sorted(columns)))
        return 0
    select = ", ".join(f'"{c}"' if c in columns else f'NULL::VARCHAR AS "{c}"' for c in CURATED_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE curated AS SELECT {select}, row_index FROM curated")
    warehouse.run_sql(con, "insert_curated_rows", source_file=relative)
    return con.execute("SELECT count(*) FROM curated").fetchall()[0][0]


def _read_table_json_by_shape(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource, path: Path) -> bool:
    """Take a Papers with Code evaluation-tables JSON file of the usual shape apart in one typed pass
    (read_table_json_by_shape); False, with nothing read, for a file of any other shape. Run outside
    a transaction: the reader fails on such a file, which would abort the transaction."""
    try:
        warehouse.run_sql(con, "read_table_json_by_shape", table_file=str(path),
                          table_file_bytes=max(path.stat().st_size, 1))
    except (duckdb.Error, UnicodeDecodeError):  # the reader's message quotes the bytes it met, not always UTF-8
        warehouse.run_sql(con, "create_table_docs")
        return False
    return True


def _read_table_json(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource, path: Path, root: Path,
                     data: bytes) -> None:
    """Tasks of a Papers with Code evaluation-tables JSON file of any shape (its bytes `data`) into
    table_task_docs, or the file into table_file_refusals."""
    warehouse.run_sql(con, "read_table_files", table_file=str(path), table_bytes=data, root=str(root))


def _read_archive_parquet(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource, path: Path) -> None:
    """Tasks of a Parquet file of the Papers with Code archive (one task per row) into table_task_docs."""
    try:
        warehouse.run_sql(con, "read_archive_parquet", table_file=str(path))
    except duckdb.Error as exc:
        raise TableFileRefused(f"unreadable Parquet: {str(exc).splitlines()[0]}") from None


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _load_table_file(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource, path: Path, root: Path,
                     read_by_shape: bool, reuse_rows: bool = False, data: bytes | None = None) -> tuple[int, int]:
    """One table file's cells into raw.table_results (its refusals into table_file_refusals); `read_by_shape`: the
    file was already taken apart by `_read_table_json_by_shape`; `data`: the bytes of a JSON file
    (read by the caller); `reuse_rows`: its rows of an earlier
    reading by this code are still there. Returns the table rows flattened and the rows whose cells
    were kept (in the file as they were when it was read before)."""
    if path.suffix == ".csv":
        return _load_curated_csv(con, warehouse, path, root), 0
    if path.suffix == ".parquet":
        _read_archive_parquet(con, warehouse, path)
    elif not read_by_shape:
        _read_table_json(con, warehouse, path, root, data)
    warehouse.run_sql(con, "benchmark_table_rows", root=str(root), source_file=str(path.relative_to(root)),
                      reuse_rows=reuse_rows)
    read, kept = con.execute("SELECT rows_read, rows_kept FROM table_row_counts").fetchall()[0]
    return read - kept, kept


def _json_table_bytes(snapshot: SnapshotResource, base: Path, path: Path) -> bytes:
    """The bytes of a JSON table file, read through the jail; TableFileRefused when it nests deeper
    than `snapshot.max_json_depth` (the walk of subtasks and subdatasets would go as deep)."""
    try:
        data = read_source_file(base, path, snapshot.max_table_file_bytes, "table file")
    except FileRefused as refused:          # swapped for a link or a FIFO since it was listed
        raise TableFileRefused(refused.reason) from None
    if json_too_deep(data, snapshot.max_json_depth):
        raise TableFileRefused(f"JSON nested deeper than about {snapshot.max_json_depth} levels: not read")
    return data


def _read_listed_file(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource, snapshot: SnapshotResource,
                      paths: dict[str, tuple[Path, Path]], kept: set[str], name: str, size: int,
                      sha256: str) -> tuple[int, int]:
    """Load one listed table file in its own transaction on its own cursor and record it in
    raw.table_files, with what it refused; return its rows flattened and kept. `kept`: the files
    whose rows of an earlier reading are still there. A file DuckDB cannot read at all, or nested
    too deep, is recorded alone, without rows."""
    base, path = paths[name]
    with con.cursor() as cursor:
        warehouse.run_sql(cursor, "create_table_docs")
        data, refusal = None, None
        if path.suffix == ".json":
            try:
                data = _json_table_bytes(snapshot, base, path)
            except TableFileRefused as refused:
                refusal = refused
        read_by_shape = data is not None and _read_table_json_by_shape(cursor, warehouse, path)
        cursor.execute("BEGIN")
        try:
            if refusal is not None:
                raise refusal
            rows = _load_table_file(cursor, warehouse, path, base, read_by_shape, name in kept, data)
        except TableFileRefused as refused:  # DuckDB aborted the transaction: record the file alone
            cursor.execute("ROLLBACK")
            cursor.execute("BEGIN")
            warehouse.run_sql(cursor, "refuse_table_file", source_file=name, reason=str(refused),
                              payload=failure_payload(file=name, bytes=size))
            rows = (0, 0)
        warehouse.run_sql(cursor, "insert_table_file", source_file=name, bytes=size, sha256=sha256,
                          parser=PARSER_VERSION, read_at=utc_now())
        cursor.execute("COMMIT")
    return rows


def _drop_rows_of_files_not_kept(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource) -> None:
    """Remove the raw.table_results rows of files not in `table_files_kept`. When most rows go, the
    table is rebuilt from the rows kept instead: DuckDB removes deleted keys from the primary-key
    index one by one (about 10 s per million rows)."""
    unlisted, rows = con.execute(
        "SELECT count(*) FILTER (WHERE source_file NOT IN (SELECT source_file FROM table_files_kept)), count(*) "
        "FROM raw.table_results").fetchone()
    if unlisted * 2 <= rows:
        warehouse.run_sql(con, "delete_rows_of_files_not_kept")
        return
    warehouse.run_sql(con, "set_aside_rows_of_kept_files")
    warehouse.run_sql(con, "create_raw_schema")
    warehouse.run_sql(con, "restore_rows_of_kept_files")


def _download_archive(snapshot: SnapshotResource, hub: HubResource, log: IngestLog) -> list[Path]:
    """The archived Papers with Code tables (Hub dataset `snapshot.pwc_archive`) into the cache's
    `tables/archive/<dataset id>/`; a file is downloaded again only when its ETag changed. When the
    Hub cannot be reached, the copy of an earlier run is read."""
    folder = snapshot.root / "tables" / "archive" / snapshot.pwc_archive
    with hub.open() as client:
        try:
            client.download_dataset_files(snapshot.pwc_archive, ARCHIVE_FILES, folder, snapshot.root / ".hf_cache")
        except Exception as exc:  # the other tables still load
            log.fail(f"archive:{snapshot.pwc_archive}", client.describe(exc), failure_payload(id=snapshot.pwc_archive))
    log.requests, log.retries = client.stats.requests, client.stats.retries
    return sorted(p for pattern in ARCHIVE_FILES for p in folder.glob(pattern))


def _admit_table_files(snapshot: SnapshotResource, files: list[tuple[Path, Path]]
                       ) -> tuple[dict[str, tuple[Path, Path]], pd.DataFrame]:
    """The listed (root, path) table files that may be read, by name relative to their root, and
    the others, unread: links leaving the root, FIFOs, devices, files over the size cap (status
    `refused`) and empty files (status `empty`), with their reason."""
    admitted: dict[str, tuple[Path, Path]] = {}
    refused: list[tuple[str, int | None, str, str]] = []
    for base, path in files:
        name = str(path.relative_to(base))
        try:
            listed = open_source_file(base, path, snapshot.max_table_file_bytes, "table file")
        except FileRefused as exc:
            refused.append((name, None, "refused", exc.reason))
            continue
        if listed.size == 0:
            refused.append((name, 0, "empty", "empty file: 0 bytes, nothing to load"))
            continue
        admitted[name] = (base, path)
    frame = pd.DataFrame(refused, columns=["source_file", "bytes", "status", "reason"]).astype(
        {"source_file": "string", "bytes": "Int64", "status": "string", "reason": "string"})
    return admitted, frame


@dg.asset(group_name="ingest", kinds={"json", "csv", "parquet", "duckdb"})
def benchmark_table_rows(snapshot: SnapshotResource, warehouse: WarehouseResource,
                         hub: HubResource) -> dg.MaterializeResult:
    """Every cell of every benchmark table in the snapshot's `tables/` (live mode too): one row per
    (file, task path, dataset, table row, metric) in `raw.table_results`, with the value text as
    found, and one row per file in `raw.table_files` (size, SHA-256, the failures it gave). Papers
    with Code `*.json` files (of the usual shape through DuckDB's typed JSON reader, any other shape
    walked as JSON) and archive `*.parquet` files are flattened in SQL, a file per core;
    curated `*.csv` files follow the README's columns. In live mode with `SOTABOARD_PWC_ARCHIVE` set, the Parquet files of
    that Hub dataset (the archived Papers with Code tables) are downloaded and read too.

    Every file is opened through the snapshot jail (`assets.sources.files`): a link that leaves
    the root, a FIFO or device, a file over `max_table_file_bytes`, and an empty file are not read;
    they get a row in `raw.table_files_refused` and in the quarantine. A JSON file nested deeper
    than `max_json_depth` is refused whole.

    Incremental: a file whose size and hash (and the code that reads it) did not change since it was
    loaded is not read again, its rows and failures are kept; changed and new files are read again,
    and in a changed JSON or Parquet file only the table rows that are new or changed (in place or
    content, `row_hash`) are flattened, the others keep their cells; the rows of deleted files are
    removed. The result is the same as a full rebuild. Each file is loaded in its own transaction: a
    run killed midway leaves every file's rows either as they were or complete, and the next run
    reads what is left."""
    # The snapshot's own table files are read in both modes (live mode fetches no tables but the
    # archive, which lands in the cache): each file is named relative to the directory it is in.
    snapshot_root = Path(snapshot.snapshot_dir)
    log = IngestLog("tables", snapshot.source, lacks=snapshot.lacking("tables"))
    files = [(snapshot_root, p) for pattern in TABLE_FILES for p in sorted((snapshot_root / "tables").glob(pattern))]
    if snapshot.live and snapshot.pwc_archive:
        files += [(snapshot.root, p) for p in _download_archive(snapshot, hub, log)]
    paths, refused = _admit_table_files(snapshot, files)
    found = pd.DataFrame([(name, p.stat().st_size, _sha256(p)) for name, (_, p) in paths.items()],
                         columns=["source_file", "bytes", "sha256"]).astype(
                             {"source_file": "string", "bytes": "int64", "sha256": "string"})
    with warehouse.connect() as con:
        con.register("found_table_files", found)
        con.execute("BEGIN")
        removed = con.execute("SELECT count(*) FROM raw.table_files WHERE source_file NOT IN "
                              "(SELECT source_file FROM found_table_files)").fetchone()[0]
        warehouse.run_sql(con, "plan_table_files", parser=PARSER_VERSION)
        to_read = list(files_to_read(con, "raw.table_files", "found_table_files", ("bytes", "sha256"),
                                     PARSER_VERSION).itertuples(index=False))
        _drop_rows_of_files_not_kept(con, warehouse)
        kept = {name for (name,) in con.execute("SELECT source_file FROM table_files_kept").fetchall()}
        con.execute("COMMIT")
        # the refusals of every file read, kept or read now, are in its raw.table_files row
        log.recall("raw.table_files")
        # Flattening one file keeps one core busy: files are read side by side, each on its own
        # connection and in its own transaction, the largest first (so that no large file is left
        # to one core at the end); each records its refusals in its raw.table_files row.
        with ThreadPoolExecutor(max_workers=TABLE_READERS) as pool:
            loads = {file: pool.submit(_read_listed_file, con, warehouse, snapshot, paths, kept, *file)
                     for file in sorted(to_read, key=lambda file: file.bytes, reverse=True)}
            flattened = reused = 0
            for file in to_read:
                file_flattened, file_reused = loads[file].result()
                flattened, reused = flattened + file_flattened, reused + file_reused
        con.register("refused_table_files", refused)
        con.execute("BEGIN")
        warehouse.run_sql(con, "replace_table_files_refused", seen_at=utc_now())
        con.execute("COMMIT")
        for name, reason, size in refused[["source_file", "reason", "bytes"]].itertuples(index=False):
            log.fail(name, reason, failure_payload(file=name, bytes=None if pd.isna(size) else int(size)))
        log.records = con.execute("SELECT count(*) FROM raw.table_results").fetchall()[0][0]
        per_file = dict(con.execute(
            "SELECT source_file, count(*) FROM raw.table_results GROUP BY ALL ORDER BY 1").fetchall())
        log.save(con)
    return dg.MaterializeResult(metadata={
        **log.metadata(), "cells_per_file": dg.MetadataValue.json(per_file),
        "files_read": len(to_read), "files_unchanged": len(paths) - len(to_read), "files_removed": removed,
        "files_refused_unread": dg.MetadataValue.json(dict(refused["status"].value_counts())),
        "table_rows_flattened": flattened, "table_rows_kept": reused})
