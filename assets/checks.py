"""Asset checks on every core and analytics table: keys, references, ranges, rank invariants.

Each check is a query that selects the violating rows; it passes when there are none. ERROR
checks block publishing; WARN checks show in the UI without stopping the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import duckdb

from warehouse import SqlAsset, Table, sql_assets, tables
from warehouse.database import WarehouseResource

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Check:
    asset: str  # the table it checks, an asset key
    name: str
    description: str
    violations_sql: str
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR


def unique_key(table: Table) -> Check:
    cols = ", ".join(table.key)
    nulls = " OR ".join(f"{c} IS NULL" for c in table.key)
    return Check(table.name, f"{table.name}_key_unique_not_null", f"{table.name}: ({cols}) is unique and never NULL",
                 f"SELECT {cols}, count(*) AS n FROM {table.name} GROUP BY ALL HAVING count(*) > 1 OR {nulls}")


def references(table: str, column: str, parent: str, parent_column: str,
               severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR) -> Check:
    return Check(table, f"{table}_{column}_references_{parent}", f"every {table}.{column} is in {parent}",
                 f"SELECT DISTINCT c.{column} FROM {table} AS c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
                 f"(SELECT 1 FROM {parent} AS p WHERE p.{parent_column} = c.{column})", severity)


LEADERBOARD_GROUP = "benchmark_id, metric, split, setting"

CHECKS = [
    # every key the registry declares (warehouse/tables.yaml)
    *(unique_key(table) for table in tables() if table.key),
    Check("metrics", "metrics_direction_valid", "direction is higher, lower or NULL",
          "SELECT metric, direction FROM metrics WHERE direction NOT IN ('higher', 'lower')"),
    references("benchmark_aliases", "benchmark_id", "benchmarks", "benchmark_id"),
    references("results", "model_id", "models", "model_id"),
    references("results", "benchmark_id", "benchmarks", "benchmark_id"),
    references("results", "metric", "metrics", "metric"),
    references("results", "arxiv_id", "papers", "arxiv_id", dg.AssetCheckSeverity.WARN),
    Check("results", "results_percent_in_range", "values of percent metrics lie in [0, 100]",
          "SELECT result_id, metric, value FROM results WHERE unit = 'percent' AND NOT value BETWEEN 0 AND 100"),
    Check("results", "results_verified_not_in_conflict", "no result is both verified and in conflict",
          "SELECT result_id FROM results WHERE verified AND conflict"),
    Check("quarantine", "quarantine_has_reasons", "every quarantined record carries a source, key and reason",
          "SELECT * FROM quarantine WHERE source IS NULL OR record_key IS NULL OR coalesce(reason, '') = ''"),
    Check("quarantine", "quarantine_payloads_are_json", "every quarantined record carries a payload: a JSON object "
          "that identifies it", "SELECT * FROM quarantine WHERE NOT coalesce(json_valid(payload), false) "
          "OR json_type(payload::JSON) <> 'OBJECT'", dg.AssetCheckSeverity.WARN),
    Check("table_reconciliation", "table_files_reconcile", "per table file: cells = results + quarantined + facts",
          "SELECT * FROM table_reconciliation WHERE NOT reconciles"),
    references("leaderboard", "result_id", "results", "result_id"),
    Check("leaderboard", "leaderboard_rank_within_n", "1 <= rank <= n_models",
          "SELECT * FROM leaderboard WHERE rank < 1 OR rank > n_models"),
    Check("leaderboard", "leaderboard_every_group_has_sota", "every ranked group has a rank 1",
          f"SELECT {LEADERBOARD_GROUP} FROM leaderboard GROUP BY ALL HAVING min(rank) <> 1"),
    Check("leaderboard", "leaderboard_n_matches_rows", "n_models equals the rows of the group",
          f"SELECT {LEADERBOARD_GROUP} FROM leaderboard GROUP BY ALL HAVING count(*) <> max(n_models)"),
    Check("sota_history", "sota_history_one_current_holder", "each leaderboard has one current record",
          f"SELECT {LEADERBOARD_GROUP} FROM sota_history GROUP BY ALL HAVING count(*) FILTER (WHERE is_current) <> 1"),
    references("model_strengths", "model_id", "models", "model_id"),
    Check("result_conflicts", "result_conflicts_flagged", "the lower-precedence side of every conflict is flagged",
          "SELECT c.result_id FROM result_conflicts c JOIN results r USING (result_id) WHERE NOT r.conflict"),
]


def evaluate(check: Check, con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    """The outcome of `check` on the database of `con`: passed when its query selects no row, with the
    number of violating rows and a sample of them."""
    frame = con.sql(check.violations_sql).df()
    return dg.AssetCheckResult(
        asset_key=check.asset,
        check_name=check.name,
        passed=frame.empty,
        severity=check.severity,
        metadata={"violations": dg.MetadataValue.int(len(frame)),
                  "sample": dg.MetadataValue.md(frame.head(SAMPLE_ROWS).to_markdown(index=False, disable_numparse=True)
                                                if len(frame) else "(none)")},
    )


def checks_of(asset: SqlAsset) -> dg.AssetChecksDefinition | None:
    """The checks on the tables `asset` builds, as one step (`<asset>_checks`) that runs those selected
    (all of them in the nightly job; any subset from the UI); None when none of its tables is checked."""
    own = [check for check in CHECKS if check.asset in {table.name for table in asset.tables}]
    if not own:
        return None
    by_key = {dg.AssetCheckKey(dg.AssetKey(check.asset), check.name): check for check in own}
    specs = [dg.AssetCheckSpec(check.name, asset=check.asset, description=check.description,
                               blocking=check.severity == dg.AssetCheckSeverity.ERROR) for check in own]

    @dg.multi_asset_check(name=f"{asset.name}_checks", specs=specs, can_subset=True)
    def _checks(context, warehouse: WarehouseResource):
        with warehouse.connect() as con:
            for key, check in by_key.items():
                if key in context.selected_asset_check_keys:
                    yield evaluate(check, con)

    return _checks


asset_checks = [checks for asset in sql_assets() if (checks := checks_of(asset)) is not None]
