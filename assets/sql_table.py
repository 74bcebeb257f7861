"""The one way a warehouse table is built: an asset that runs `warehouse/sql/<name>.sql`."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from pipelines.resources import WarehouseResource, utc_now

PREVIEW_ROWS = 5


def sql_table_asset(
    name: str,
    *,
    group: str,
    deps: Sequence[str],
    description: str,
    tables: Sequence[str] = (),
) -> dg.AssetsDefinition:
    """An asset that builds the tables of `warehouse/sql/<name>.sql` in the working database and
    reports each table's row count, plus a preview of the first. `tables` defaults to `[name]`."""
    tables = list(tables) or [name]

    @dg.asset(name=name, group_name=group, deps=list(deps), kinds={"duckdb", "sql"},
              description=description, pool="warehouse")
    def _asset(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            warehouse.run_sql(con, "create_raw_schema")
            warehouse.run_sql(con, "create_macros")
            warehouse.run_sql(con, name, run_started_at=utc_now().isoformat())
            counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
            preview = con.sql(f'SELECT * FROM "{tables[0]}" LIMIT {PREVIEW_ROWS}').df()
        metadata: dict[str, object] = {
            "dagster/row_count": dg.MetadataValue.int(counts[tables[0]]),
            "preview": dg.MetadataValue.md(preview.to_markdown(index=False, disable_numparse=True) if len(preview) else "(empty)"),
        }
        metadata.update({f"rows/{t}": dg.MetadataValue.int(n) for t, n in counts.items()})
        return dg.MaterializeResult(metadata=metadata)

    return _asset
