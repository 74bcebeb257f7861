"""The one way a warehouse table is built: an asset that runs `warehouse/sql/<name>.sql`."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from warehouse.database import WarehouseResource, utc_now

PREVIEW_ROWS = 5


def sql_table_asset(
    name: str,
    *,
    group: str,
    deps: Sequence[str],
    description: str,
    tables: Sequence[str] = (),
) -> dg.AssetsDefinition:
    """An asset that builds the tables (or views) of `warehouse/sql/<name>.sql` in the working
    database and reports each table's row count, plus a preview of the first. `tables` defaults to
    `[name]`."""
    tables = list(tables) or [name]

    @dg.asset(name=name, group_name=group, deps=list(deps), kinds={"duckdb", "sql"},
              description=description, pool="warehouse")
    def _asset(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            warehouse.run_sql(con, "create_raw_schema")
            warehouse.run_sql(con, "create_macros")
            warehouse.run_sql(con, name, run_started_at=utc_now().isoformat())
            views = {view for (view,) in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
                "AND schema_name = 'main'").fetchall()}
            # a view is not counted: counting it runs its query over every model (1 s at 1M results)
            counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables if t not in views}
            preview = con.sql(f'SELECT * FROM "{tables[0]}" LIMIT {PREVIEW_ROWS}').df()
        metadata: dict[str, object] = {
            "preview": dg.MetadataValue.md(preview.to_markdown(index=False, disable_numparse=True) if len(preview) else "(empty)"),
        }
        if tables[0] in counts:
            metadata["dagster/row_count"] = dg.MetadataValue.int(counts[tables[0]])
        metadata.update({f"rows/{t}": dg.MetadataValue.int(n) for t, n in counts.items()})
        if views & set(tables):
            metadata["views"] = dg.MetadataValue.text(", ".join(t for t in tables if t in views))
        return dg.MaterializeResult(metadata=metadata)

    return _asset
