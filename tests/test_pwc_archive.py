"""Live mode imports the archived Papers with Code tables from a Hub dataset (the real HfApi against
a local replay server): the same cells as the JSON they came from, downloaded once."""

from __future__ import annotations

import os
import tempfile

os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="sotaboard-hf-home-"))
os.environ.pop("HF_HUB_OFFLINE", None)

import dagster as dg  # noqa: E402
import duckdb  # noqa: E402
from hub_replay import hub_routes  # noqa: E402
from replay import Fault, ReplayServer  # noqa: E402

from assets.catalog import catalog  # noqa: E402
from assets.sources.hub.client import HubResource  # noqa: E402
from assets.sources.snapshot import SnapshotResource  # noqa: E402
from assets.tables import benchmark_table_rows  # noqa: E402
from warehouse.database import WarehouseResource  # noqa: E402

ARCHIVE = "pwc-archive/evaluation-tables"
CELLS = "SELECT task_path, dataset, subdataset, model_name, metric_raw, value_raw FROM raw.table_results ORDER BY ALL"


def cells(warehouse: WarehouseResource) -> list[tuple]:
    con = duckdb.connect(str(warehouse.working_path), read_only=True)
    try:
        return con.execute(CELLS).fetchall()
    finally:
        con.close()


def runs(warehouse: WarehouseResource) -> list[tuple]:
    con = duckdb.connect(str(warehouse.working_path), read_only=True)
    try:
        return con.execute("SELECT retries FROM raw.source_runs WHERE source = 'tables'").fetchall()
    finally:
        con.close()


def materialize(tmp, name: str, snapshot: SnapshotResource, hub: HubResource) -> WarehouseResource:
    warehouse = WarehouseResource(path=str(tmp / name / "pub.duckdb"), state_dir=str(tmp / name / "state"))
    result = dg.materialize([catalog, benchmark_table_rows],
                            resources={"warehouse": warehouse, "snapshot": snapshot, "hub": hub})
    assert result.success
    return warehouse


def test_archive_dataset_is_downloaded_once_and_reads_like_its_json(tmp_path, real_data):
    # the archive's shape: one Parquet row per task, the JSON's nested lists as structs
    dataset = tmp_path / "dataset"
    (dataset / "data").mkdir(parents=True)
    source = real_data / "pwc" / "snli.json"
    # DuckDB 1.5 binds no parameter for COPY's target: a literal
    duckdb.execute(f"COPY (SELECT * FROM read_json(?, maximum_object_size = 100000000)) "
                   f"TO '{dataset / 'data' / 'train-00000-of-00001.parquet'}'", [str(source)])
    (dataset / "README.md").write_text("---\nlicense: cc-by-sa-4.0\n---\n")
    json_snapshot = tmp_path / "json_snap"
    (json_snapshot / "tables").mkdir(parents=True)
    (json_snapshot / "tables" / "snli.json").write_bytes(source.read_bytes())

    server = ReplayServer().start()
    try:
        hub_routes(server, tmp_path / "empty", datasets={ARCHIVE: dataset})
        hub = HubResource(endpoint=server.url, max_retries=2, backoff_seconds=0.05, timeout_seconds=10.0)
        live = SnapshotResource(source="live", snapshot_dir=str(tmp_path / "empty"), cache_dir=str(tmp_path / "cache"),
                                pwc_archive=ARCHIVE)
        server.inject(r"/resolve/.*\.parquet$", Fault(status=503))            # retried
        archived = materialize(tmp_path, "live", live, hub)
        from_json = materialize(tmp_path, "json", SnapshotResource(source="snapshot", snapshot_dir=str(json_snapshot),
                                                                   cache_dir=str(tmp_path / "c2")), hub)
        assert cells(archived) and cells(archived) == cells(from_json)
        assert server.count("GET", r"/resolve/.*\.parquet$") == 1              # downloaded once
        assert runs(archived) == [(1,)]                                        # the 503 was retried
        assert server.count("GET", r"/resolve/.*README\.md$") == 0             # only the Parquet files

        mark = len(server.requests)
        again = materialize(tmp_path, "live", live, hub)
        assert cells(again) == cells(archived)
        gets = [r for r in server.requests[mark:] if r.method == "GET" and r.path.endswith(".parquet")]
        assert gets == []                                                      # unchanged: not downloaded again
    finally:
        server.stop()


def test_live_mode_reads_the_snapshots_own_table_files(tmp_path, real_data):
    """No client fetches curated or Papers with Code table files: live mode reads them from the
    snapshot directory, as snapshot mode does."""
    snap = tmp_path / "snap"
    (snap / "tables").mkdir(parents=True)
    (snap / "tables" / "snli.json").write_bytes((real_data / "pwc" / "snli.json").read_bytes())
    hub = HubResource(endpoint="http://127.0.0.1:9")                          # no archive: never asked
    live = materialize(tmp_path, "live", SnapshotResource(source="live", snapshot_dir=str(snap),
                                                          cache_dir=str(tmp_path / "cache")), hub)
    offline = materialize(tmp_path, "snapshot", SnapshotResource(source="snapshot", snapshot_dir=str(snap),
                                                                 cache_dir=str(tmp_path / "c2")), hub)
    assert cells(live) and cells(live) == cells(offline)
