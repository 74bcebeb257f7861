"""The tracked catalog: which orgs, models, papers and benchmarks a run follows."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import yaml

from assets.ingest_log import IngestLog, failure_payload
from pipelines.resources import SnapshotResource, WarehouseResource

CATALOG_KINDS = {"orgs": "org", "models": "model", "papers": "paper", "benchmarks": "benchmark"}
MAX_CATALOG_BYTES = 1_000_000


def read_catalog(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(kind, key) pairs of a catalog.yaml, and the problems found in it."""
    problems: list[str] = []
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return [], [f"catalog.yaml does not parse: {exc}"]
    if not isinstance(doc, dict):
        return [], ["catalog.yaml is not a mapping of orgs/models/papers/benchmarks"]
    entries = []
    for section, values in doc.items():
        kind = CATALOG_KINDS.get(section)
        if kind is None:
            problems.append(f"unknown section {section!r}")
            continue
        for value in values or []:
            if isinstance(value, (str, int, float)) and str(value).strip():
                entries.append((kind, str(value).strip()))
            else:
                problems.append(f"{section}: not a plain id: {value!r}")
    return sorted(set(entries)), problems


@dg.asset(group_name="ingest", kinds={"yaml", "duckdb"})
def catalog(snapshot: SnapshotResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Tracked entities from the snapshot's `catalog.yaml`: one row per (kind, key), kind in
    org | model | paper | benchmark. No catalog file means everything in the snapshot is tracked."""
    log = IngestLog("catalog", snapshot.source)
    path = snapshot.catalog_path
    entries: list[tuple[str, str]] = []
    if path.is_file():
        if path.stat().st_size > MAX_CATALOG_BYTES:
            log.fail(str(path), f"catalog.yaml larger than {MAX_CATALOG_BYTES} bytes",
                     failure_payload(file=path.name, bytes=path.stat().st_size))
        else:
            entries, problems = read_catalog(path.read_text(errors="replace"))
            for problem in problems:
                log.fail(str(path), problem, failure_payload(file=path.name))
    log.records = len(entries)
    frame = pd.DataFrame(entries, columns=["kind", "key"], dtype="string")
    with warehouse.connect() as con:
        warehouse.run_sql(con, "create_raw_schema")
        con.register("catalog_entries", frame)
        con.execute("DELETE FROM raw.catalog")
        con.execute("INSERT INTO raw.catalog SELECT kind, key FROM catalog_entries")
        log.save(con)
    counts = frame["kind"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={**log.metadata(), "catalog_file": str(path) if path.is_file() else "none (tracking everything)",
                  "tracked": dg.MetadataValue.json(counts)}
    )
