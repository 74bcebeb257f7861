"""Benchmark tables: Papers with Code evaluation-tables JSON files and curated CSV files."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from assets.ingest_log import IngestLog
from pipelines.resources import SnapshotResource, WarehouseResource

CURATED_COLUMNS = (
    "model_id", "model_name", "benchmark", "task", "area", "metric", "value", "split", "setting",
    "paper_url", "paper_title", "result_date", "source_url", "uses_additional_data",
)
CURATED_REQUIRED = ("model_name", "benchmark", "metric", "value")


def _load_curated_csv(con: duckdb.DuckDBPyConnection, path: Path, root: Path, log: IngestLog) -> None:
    relative = str(path.relative_to(root))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE curated AS "
            "SELECT *, row_number() OVER () - 1 AS row_index FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )
    except duckdb.Error as exc:
        log.fail(relative, f"unreadable CSV: {str(exc).splitlines()[0]}")
        return
    columns = {row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE curated)").fetchall()}
    missing = [c for c in CURATED_REQUIRED if c not in columns]
    if missing:
        log.fail(relative, f"missing required columns: {', '.join(missing)}")
        return
    select = ", ".join(f'"{c}"' if c in columns else f'NULL::VARCHAR AS "{c}"' for c in CURATED_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE curated AS SELECT {select}, row_index FROM curated")
    con.execute(
        """
        INSERT INTO raw.table_results
        SELECT concat_ws('|', ?, row_index, 'value'), ?, 'curated-csv',
               [trim(task)], trim(task), nullif(trim(area), ''), trim(benchmark), NULL, row_index,
               trim(model_name), nullif(trim(model_id), ''), trim(metric), value,
               nullif(lower(trim(split)), ''), coalesce(lower(trim(setting)), ''),
               nullif(trim(paper_title), ''), nullif(trim(paper_url), ''), try_cast(result_date AS DATE),
               try_cast(result_date AS DATE), coalesce(nullif(trim(source_url), ''), nullif(trim(paper_url), '')),
               coalesce(try_cast(uses_additional_data AS BOOLEAN), false)
        FROM curated
        WHERE nullif(trim(model_name), '') IS NOT NULL AND nullif(trim(benchmark), '') IS NOT NULL
          AND nullif(trim(metric), '') IS NOT NULL
        """,
        [relative, relative],
    )
    for (row_index,) in con.execute(
        "SELECT row_index FROM curated WHERE nullif(trim(model_name), '') IS NULL "
        "OR nullif(trim(benchmark), '') IS NULL OR nullif(trim(metric), '') IS NULL"
    ).fetchall():
        log.fail(f"{relative}|{row_index}", "curated row without model_name, benchmark or metric")


def _read_archive_parquet(con: duckdb.DuckDBPyConnection, path: Path, root: Path, log: IngestLog) -> None:
    """Tasks of a Parquet file of the Papers with Code archive (one task per row) into table_task_docs."""
    try:
        con.execute(
            "INSERT INTO table_task_docs SELECT ?, row_number() OVER () - 1, to_json(p) FROM read_parquet(?) AS p",
            [str(path), str(path)],
        )
    except duckdb.Error as exc:
        log.fail(str(path.relative_to(root)), f"unreadable Parquet: {str(exc).splitlines()[0]}")


@dg.asset(group_name="ingest", kinds={"json", "csv", "parquet", "duckdb"})
def benchmark_table_rows(snapshot: SnapshotResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every cell of every benchmark table in the snapshot's `tables/`: one row per (file, task path,
    dataset, table row, metric) in `raw.table_results`, with the value text as found. Papers with
    Code `*.json` files and archive `*.parquet` files are flattened in SQL; curated `*.csv` files
    follow the README's columns."""
    root = snapshot.root
    tables_dir = root / "tables"
    log = IngestLog("tables", snapshot.source)
    with warehouse.connect() as con:
        warehouse.run_sql(con, "create_raw_schema")
        warehouse.run_sql(con, "create_macros")
        con.execute("DELETE FROM raw.table_results")
        con.execute("CREATE OR REPLACE TEMP TABLE table_task_docs (filename VARCHAR, task_index INTEGER, task JSON)")
        if any(tables_dir.glob("*.json")):
            warehouse.run_sql(con, "read_table_files", tables_glob=str(tables_dir / "*.json"))
            for filename, reason, payload in con.execute("SELECT * FROM table_file_errors").fetchall():
                log.fail(str(Path(filename).relative_to(root)), reason, payload)
        for path in sorted(tables_dir.glob("*.parquet")):
            _read_archive_parquet(con, path, root, log)
        warehouse.run_sql(con, "benchmark_table_rows", root=str(root))
        for path in sorted(tables_dir.glob("*.csv")):
            _load_curated_csv(con, path, root, log)
        log.records = con.execute("SELECT count(*) FROM raw.table_results").fetchall()[0][0]
        per_file = dict(con.execute(
            "SELECT source_file, count(*) FROM raw.table_results GROUP BY ALL ORDER BY 1").fetchall())
        log.save(con)
    lacking = [] if tables_dir.is_dir() else ["tables/"]
    return dg.MaterializeResult(metadata={**log.metadata(), "cells_per_file": dg.MetadataValue.json(per_file),
                                          "snapshot_lacks": dg.MetadataValue.json(lacking)})
