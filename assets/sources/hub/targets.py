"""Which Hub models and datasets a run loads: the catalog's targets, the model info files of the
snapshot (or fetch cache) that the jail admits, and the tracked datasets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from assets.sources.files import FileRefused, open_source_file
from assets.sources.hub.client import repo_id_problem
from assets.sources.ingest_log import IngestLog, failure_payload
from warehouse import sql

# --- targets --------------------------------------------------------------------------------------


@dataclass
class Targets:
    orgs: list[str]
    models: list[str]
    curated: list[str]
    benchmarks: list[str]


def read_targets(con: duckdb.DuckDBPyConnection) -> Targets:
    def keys(kind: str) -> list[str]:
        return [k for (k,) in con.execute("SELECT key FROM raw.catalog WHERE kind = ? ORDER BY key", [kind]).fetchall()]

    curated = [m for (m,) in con.execute(
        "SELECT DISTINCT trim(model_id) FROM raw.table_results WHERE nullif(trim(model_id), '') IS NOT NULL ORDER BY 1"
    ).fetchall()]
    return Targets(keys("org"), keys("model"), curated, keys("benchmark"))


def snapshot_model_ids(root: Path, targets: Targets, log: IngestLog) -> list[str]:
    """Requested ids whose files a snapshot run loads: everything when the catalog names no org and
    no model; otherwise the catalog's orgs and models and the curated tables' model ids."""
    models_dir = root / "hub" / "models"
    if not targets.orgs and not targets.models:
        files = sorted([*models_dir.glob("*.json"), *models_dir.glob("*/*.json")])
        ids = [str(p.relative_to(models_dir))[: -len(".json")] for p in files]
    else:
        ids = []
        for org in targets.orgs:
            if repo_id_problem(org) or "/" in org:
                log.fail(f"org:{org}", f"invalid org id: {org!r}", failure_payload(org=org))
                continue
            ids += [f"{org}/{p.name[: -len('.json')]}" for p in sorted((models_dir / org).glob("*.json"))]
        for repo_id in targets.models:
            if not repo_id_problem(repo_id) and not os.path.lexists(root / "hub" / "models" / f"{repo_id}.json"):
                log.fail(repo_id, f"missing from snapshot: hub/models/{repo_id}.json",
                         failure_payload(id=repo_id, file=f"hub/models/{repo_id}.json"))
        ids += targets.models + targets.curated
    return list(dict.fromkeys(ids))


def _model_file_stats(root: Path, max_bytes: int) -> dict[str, os.stat_result | str]:
    """Every `hub/models/[org/]<name>.json` under `root`, by requested id: the stat of a plain
    regular file, or why the snapshot jail refuses it (a link leaving the root, a FIFO, a device,
    over `max_bytes`), from one directory listing per folder (a stat per tracked id costs seconds
    at 100,000 models). An entry that is, or sits in, a symbolic link is resolved by the jail."""
    found: dict[str, os.stat_result | str] = {}

    def scan(folder: Path, prefix: str, linked: bool) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if prefix == "" and entry.is_dir():
                scan(Path(entry.path), f"{entry.name}/", linked or entry.is_symlink())
            elif entry.name.endswith(".json"):
                repo_id = prefix + entry.name[: -len(".json")]
                if linked or not entry.is_file(follow_symlinks=False):
                    try:
                        open_source_file(root, Path(entry.path), max_bytes, "model info file")
                    except FileRefused as refused:
                        found[repo_id] = refused.reason
                        continue
                found[repo_id] = entry.stat()

    models_dir = root / "hub" / "models"
    scan(models_dir, "", os.path.realpath(models_dir) != os.path.join(os.path.realpath(root), "hub", "models"))
    return found


def model_files(root: Path, ids: list[str], log: IngestLog, max_bytes: int) -> pd.DataFrame:
    """The model info files of `ids` that exist and that the snapshot jail admits (at most
    `max_bytes`; the others are quarantined): filename (absolute), source_file (relative to
    `root`), requested_id, bytes, mtime_ns."""
    stats = _model_file_stats(root, max_bytes)
    files = []
    for repo_id in ids:
        problem = repo_id_problem(repo_id)
        if problem:
            log.fail(str(repo_id), f"invalid model id: {problem}: {str(repo_id)[:200]!r}",
                     failure_payload(id=str(repo_id)))
            continue
        stat = stats.get(repo_id)
        if stat is None:
            continue
        if isinstance(stat, str):
            log.fail(repo_id, f"hub/models/{repo_id}.json: {stat}",
                     failure_payload(id=repo_id, file=f"hub/models/{repo_id}.json"))
            continue
        if stat.st_size > max_bytes:
            log.fail(repo_id, f"hub/models/{repo_id}.json: model info file too large: {stat.st_size} bytes "
                              f"(limit {max_bytes})",
                     failure_payload(id=repo_id, file=f"hub/models/{repo_id}.json", bytes=stat.st_size))
            continue
        source_file = f"hub/models/{repo_id}.json"
        files.append((str(root / source_file), source_file, repo_id, stat.st_size, stat.st_mtime_ns))
    return pd.DataFrame(files, columns=["filename", "source_file", "requested_id", "bytes", "mtime_ns"]).astype(
        {"filename": "string", "source_file": "string", "requested_id": "string", "bytes": "int64",
         "mtime_ns": "int64"})


def tracked_dataset_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Hub dataset ids of the tracked benchmarks: catalog keys of the form org/name, and the org/name
    aliases (reference/benchmark_aliases.csv) of the others."""
    rows = con.execute(sql("tracked_dataset_ids")).fetchall()
    return [r for (r,) in rows]


