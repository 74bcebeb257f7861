"""Re-materialising any asset alone (as from the UI) gives the same rows, never duplicates."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest
from pipeline_harness import OFFLINE_HUB, build, query, write_curated

from assets import analytics, catalog, core, tables
from assets.sources.snapshot import SnapshotResource
from warehouse.database import WarehouseResource

TABLES = ["raw.table_results", "raw.ingest_failures", "models", "benchmarks", "metrics", "results", "quarantine",
          "leaderboard", "sota_history", "model_strengths", "result_conflicts", "table_reconciliation"]


def content(warehouse) -> dict[str, list]:
    return {t: sorted(query(warehouse, f"SELECT * EXCLUDE ({exclude}) FROM {t}" if (exclude := {
        "raw.ingest_failures": "seen_at", "quarantine": "seen_at"}.get(t)) else f"SELECT * FROM {t}"), key=repr)
        for t in TABLES}


@pytest.fixture(scope="module")
def built(tmp_path_factory, real_data):
    """A snapshot (a real table and a curated row that is refused) and its working database, built
    once; each test re-materialises one asset in a copy of it."""
    tmp = tmp_path_factory.mktemp("idempotence")
    (tmp / "snap" / "tables").mkdir(parents=True)
    (tmp / "snap" / "tables" / "snli.json").write_bytes((real_data / "pwc" / "snli.json").read_bytes())
    write_curated(tmp / "snap", [{"model_name": "A", "benchmark": "SNLI", "metric": "% Test Accuracy",
                                  "value": "-"}])
    result, warehouse = build(tmp / "snap", tmp / "state")
    assert result.success
    return tmp, content(warehouse)


@pytest.mark.parametrize("asset_name", ["benchmark_table_rows", "results", "leaderboard", "quarantine"])
def test_rematerialising_one_asset_changes_nothing(tmp_path, built, asset_name):
    source, before = built
    shutil.copytree(source / "state", tmp_path / "state")
    warehouse = WarehouseResource(path=str(tmp_path / "state" / "published.duckdb"), state_dir=str(tmp_path / "state"))
    everything = dg.load_assets_from_modules([catalog, tables, core, analytics])
    resources = {"warehouse": warehouse,
                 "snapshot": SnapshotResource(source="snapshot", snapshot_dir=str(source / "snap"),
                                              cache_dir=str(tmp_path / "cache")), "hub": OFFLINE_HUB}
    # a table built beside others by one SQL file is rebuilt with them
    selection = dg.AssetSelection.assets(asset_name).required_multi_asset_neighbors()
    assert dg.materialize(everything, resources=resources, selection=selection).success
    assert content(warehouse) == before
