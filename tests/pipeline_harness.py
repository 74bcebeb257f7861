"""Run the table (and, when asked, Hub), core and analytics assets in process on a snapshot directory (no arXiv)."""

from __future__ import annotations

import csv
from pathlib import Path

import dagster as dg
import duckdb

from assets import analytics, catalog, core, hub, tables
from assets.checks import asset_checks
from assets.sources.hub.client import HubResource
from assets.sources.snapshot import SnapshotResource
from assets.tables import CURATED_COLUMNS
from warehouse.database import WarehouseResource

# The hub resource of snapshot-mode runs: never asked (port 9 is discard, nothing listens there).
OFFLINE_HUB = HubResource(endpoint="http://127.0.0.1:9")


def write_curated(snapshot: Path, rows: list[dict], name: str = "curated.csv") -> None:
    (snapshot / "tables").mkdir(parents=True, exist_ok=True)
    with open(snapshot / "tables" / name, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CURATED_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in CURATED_COLUMNS})


def build(snapshot: Path, state: Path, seed_sql: str | None = None, ingest_hub: bool = False
          ) -> tuple[dg.ExecuteInProcessResult, WarehouseResource]:
    """Ingest the snapshot's catalog and tables (and its Hub files when `ingest_hub`), run `seed_sql`
    on the working database (to stand in for Hub or arXiv rows), then build core and analytics with
    their checks."""
    warehouse = WarehouseResource(path=str(state / "published.duckdb"), state_dir=str(state))
    resources = {
        "warehouse": warehouse,
        "snapshot": SnapshotResource(source="snapshot", snapshot_dir=str(snapshot), cache_dir=str(state / "cache")),
        "hub": OFFLINE_HUB,
    }
    ingest = dg.load_assets_from_modules([catalog, tables, *([hub] if ingest_hub else [])])
    assert dg.materialize(ingest, resources=resources).success
    if seed_sql:
        with warehouse.connect() as con:
            con.execute(seed_sql)
    built = dg.load_assets_from_modules([core, analytics])
    keys = {key for a in built for key in a.keys}
    checks = [c for c in asset_checks if all(k.asset_key in keys for k in c.check_keys)]
    result = dg.materialize([*built, *checks], resources=resources, raise_on_error=False)
    return result, warehouse


def query(warehouse: WarehouseResource, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse.working_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.event_specific_data.check_name for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
            and e.event_specific_data.severity == dg.AssetCheckSeverity.ERROR]


def failed_check_reasons(result: dg.ExecuteInProcessResult) -> list[tuple[str, dict]]:
    """Every check that did not pass, with its metadata (what a failed run's assertion should show)."""
    return [(e.event_specific_data.check_name, e.event_specific_data.metadata) for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed]
