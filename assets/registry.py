"""The assets of the table registry (`warehouse/tables.yaml`): one multi-asset per SQL file, with an
asset key per table it builds, and lineage read from the SQL itself.

Each asset's tables depend on the assets that build the tables its SQL reads (`warehouse.reads`): a
SQL-built table by its own key, a raw table by the ingest assets that write it. A SQL file that reads a
table no asset builds fails the code location's load, naming both.
"""

from __future__ import annotations

import dagster as dg

from warehouse import SqlAsset, ingest_tables, reads, sql_assets
from warehouse.database import WarehouseResource, utc_now

PREVIEW_ROWS = 5


def builders() -> dict[str, tuple[str, ...]]:
    """The asset keys behind each table name: a SQL-built table is its own asset key; a raw table
    stands for the ingest assets that write it."""
    built: dict[str, tuple[str, ...]] = {}
    for asset, raw_tables in ingest_tables().items():
        for table in raw_tables:
            built[table] = (*built.get(table, ()), asset)
    for asset in sql_assets():
        for table in asset.tables:
            built[table.name] = (table.name,)
    return built


def upstream(asset: SqlAsset) -> list[dg.AssetKey]:
    """The asset keys the tables of `asset` depend on, from what its SQL reads."""
    built, own = builders(), {table.name for table in asset.tables}
    keys: set[str] = set()
    for table in sorted(reads(asset.name)):
        if table in own:
            continue
        if table not in built:
            raise ValueError(f"warehouse/sql/{asset.name}.sql reads {table}, which no asset of "
                             f"warehouse/tables.yaml builds")
        keys.update(built[table])
    return [dg.AssetKey(key) for key in sorted(keys)]


def sql_multi_asset(asset: SqlAsset) -> dg.AssetsDefinition:
    """The asset that runs `warehouse/sql/<name>.sql` in the working database and reports each of its
    tables' row count and a preview (a view gets neither: reading one runs its query, which for the
    model page views at a million results takes longer than the rest of the analytics)."""
    deps = upstream(asset)
    specs = [dg.AssetSpec(table.name, group_name=asset.group, deps=deps, description=asset.description,
                          kinds={"duckdb", "sql"}, metadata={"view": table.view, "published": table.published})
             for table in asset.tables]

    @dg.multi_asset(name=asset.name, specs=specs, pool="warehouse")
    def _asset(warehouse: WarehouseResource):
        with warehouse.connect() as con:
            warehouse.run_sql(con, asset.name, run_started_at=utc_now().isoformat())
            for table in asset.tables:
                metadata: dict[str, dg.MetadataValue] = {}
                if not table.view:
                    preview = con.sql(f'SELECT * FROM "{table.name}" LIMIT {PREVIEW_ROWS}').df()
                    rows = con.execute(f'SELECT count(*) FROM "{table.name}"').fetchall()[0][0]
                    metadata = {"preview": dg.MetadataValue.md(preview.to_markdown(index=False, disable_numparse=True)
                                                               if len(preview) else "(empty)"),
                                "dagster/row_count": dg.MetadataValue.int(rows)}
                yield dg.MaterializeResult(asset_key=table.name, metadata=metadata)

    return _asset


def group_assets(group: str) -> list[dg.AssetsDefinition]:
    return [sql_multi_asset(asset) for asset in sql_assets() if asset.group == group]
