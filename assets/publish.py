"""Publishing: the complete, checked warehouse file that analysts open."""

import dagster as dg

from warehouse.database import WarehouseResource

# Relations of the published warehouse (the analysts' contract; warehouse/README.md documents them).
PUBLISHED_TABLES = [
    "models", "model_aliases", "model_facts", "model_ambiguities", "papers", "benchmarks", "benchmark_aliases", "metrics",
    "metric_names", "unknown_metrics", "results", "leaderboard", "sota_history", "model_strengths",
    "source_freshness", "entity_freshness", "leaderboard_freshness", "quarantine", "table_reconciliation",
    "result_conflicts", "hub_rank_comparison",
]
PUBLISHED_VIEW_SQL = ["model_page"]


@dg.asset(
    group_name="publish",
    deps=["quarantine", "leaderboard", "sota_history", "model_strengths", "source_freshness", "model_page",
          "result_conflicts", "hub_rank_comparison"],
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
