"""Re-materialising any asset alone (as from the UI) gives the same rows, never duplicates."""

from __future__ import annotations

import dagster as dg
import pytest

from assets import analytics, catalog, core, tables
from pipeline_harness import OFFLINE_HUB, build, query, write_curated
from pipelines.resources import SnapshotResource

TABLES = ["raw.table_results", "raw.ingest_failures", "models", "benchmarks", "metrics", "results", "quarantine",
          "leaderboard", "sota_history", "model_strengths", "result_conflicts", "table_reconciliation"]


def content(warehouse) -> dict[str, list]:
    return {t: sorted(query(warehouse, f"SELECT * EXCLUDE ({exclude}) FROM {t}" if (exclude := {
        "raw.ingest_failures": "seen_at", "quarantine": "seen_at"}.get(t)) else f"SELECT * FROM {t}"), key=repr)
        for t in TABLES}


@pytest.mark.parametrize("asset_name", ["benchmark_table_rows", "results", "leaderboard", "quarantine"])
def test_rematerialising_one_asset_changes_nothing(tmp_path, real_data, asset_name):
    (tmp_path / "snap" / "tables").mkdir(parents=True)
    (tmp_path / "snap" / "tables" / "snli.json").write_bytes((real_data / "pwc" / "snli.json").read_bytes())
    write_curated(tmp_path / "snap", [{"model_name": "A", "benchmark": "SNLI", "metric": "% Test Accuracy",
                                       "value": "-"}])
    result, warehouse = build(tmp_path / "snap", tmp_path / "state")
    assert result.success
    before = content(warehouse)
    everything = dg.load_assets_from_modules([catalog, tables, core, analytics])
    resources = {"warehouse": warehouse,
                 "snapshot": SnapshotResource(source="snapshot", snapshot_dir=str(tmp_path / "snap"),
                                              cache_dir=str(tmp_path / "cache")), "hub": OFFLINE_HUB}
    assert dg.materialize(everything, resources=resources, selection=[asset_name]).success
    assert content(warehouse) == before
