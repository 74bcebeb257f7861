"""Publishing: the complete, checked warehouse (a file, or a DuckLake) that analysts open."""

import dagster as dg

from warehouse import published_tables, sql_assets
from warehouse.database import WarehouseResource

# Relations of the published warehouse (the analysts' contract; warehouse/README.md documents them),
# as warehouse/tables.yaml marks them: tables copied, and the SQL files whose views are recreated.
PUBLISHED_TABLES = [table.name for table in published_tables() if not table.view]
PUBLISHED_VIEW_SQL = [asset.name for asset in sql_assets() if any(t.view and t.published for t in asset.tables)]


@dg.asset(
    group_name="publish",
    deps=[table.name for table in published_tables()],
    kinds={"duckdb"},
    pool="warehouse",
)
def published_warehouse(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The published warehouse (SOTABOARD_WAREHOUSE). A DuckDB file: every contract table copied
    from the working database into a new file, views recreated, then renamed over the old file in
    one atomic step. A DuckLake (`ducklake:<catalog>`): one snapshot that writes the rows that
    changed since the last publish, views recreated. Runs only when every blocking check upstream
    passed."""
    published = warehouse.publish(PUBLISHED_TABLES, PUBLISHED_VIEW_SQL)
    return dg.MaterializeResult(metadata={**published, "tables": dg.MetadataValue.json(PUBLISHED_TABLES)})
