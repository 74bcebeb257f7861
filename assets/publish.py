"""Publishing: the complete, checked warehouse file that analysts open."""

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
    """The published DuckDB file (SOTABOARD_WAREHOUSE): every contract table copied from the
    working database into a new file, views recreated, then renamed over the old file in one
    atomic step. Runs only when every blocking check upstream passed."""
    path = warehouse.publish(PUBLISHED_TABLES, PUBLISHED_VIEW_SQL)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "bytes": dg.MetadataValue.int(path.stat().st_size),
            "tables": dg.MetadataValue.json(PUBLISHED_TABLES),
        }
    )
