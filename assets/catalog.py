"""The tracked catalog: which orgs, models, papers and benchmarks a run follows."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError, field_validator

from assets.sources.arxiv.ids import normalize_arxiv_id
from assets.sources.files import FileRefused, read_source_file
from assets.sources.ingest_log import IngestLog, failure_payload
from assets.sources.snapshot import SnapshotResource
from warehouse.database import WarehouseResource

CATALOG_KINDS = {"orgs": "org", "models": "model", "papers": "paper", "benchmarks": "benchmark"}
MAX_CATALOG_BYTES = 1_000_000


class UnquotedText(str):
    """A plain scalar that YAML would have read as a number, a boolean or a date: kept as written."""


class CatalogLoader(yaml.SafeLoader):
    """Safe loader whose scalars stay the text written: `2010.11920` is that id, not the float
    2010.1192; `null` and an empty value are still nothing."""


for _tag in ("int", "float", "bool", "timestamp"):
    CatalogLoader.add_constructor(f"tag:yaml.org,2002:{_tag}",
                                  lambda loader, node: UnquotedText(loader.construct_scalar(node)))


class Catalog(BaseModel):
    """The shape of catalog.yaml: each section a list of ids (a lone id is a one-item list)."""

    model_config = ConfigDict(extra="forbid")

    orgs: list[StrictStr] = []
    models: list[StrictStr] = []
    papers: list[StrictStr] = []
    benchmarks: list[StrictStr] = []

    @field_validator("*", mode="before")
    @classmethod
    def lone_id_is_a_list(cls, value: Any) -> Any:
        """`orgs: FacebookAI` is `[FacebookAI]`, never nine one-letter orgs; `papers:` is none."""
        if value is None:
            return []
        return [value] if isinstance(value, str) else value


def _problem(error: dict) -> str:
    where = "".join(f"[{part}]" if isinstance(part, int) else str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown section {where!r} (sections: {', '.join(CATALOG_KINDS)})"
    if error["type"] == "list_type":
        return f"{where}: not a list of ids but {type(error['input']).__name__}: {str(error['input'])[:80]!r}"
    return f"{where}: not a plain id: {str(error['input'])[:80]!r}"


def read_catalog(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(kind, key) pairs of a catalog.yaml checked against `Catalog`, and the problems found in it.
    An entry or section that does not fit is left out and named in a problem; the rest is kept.
    An unquoted paper id that is not an arXiv id as written is refused with a hint to quote it."""
    try:
        doc = yaml.load(text, Loader=CatalogLoader)
    except yaml.YAMLError as exc:
        return [], [f"catalog.yaml does not parse: {exc}"]
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        return [], ["catalog.yaml is not a mapping of orgs/models/papers/benchmarks"]
    doc = {str(key): value for key, value in doc.items()}
    papers = doc.get("papers")
    unquoted_papers = {v for v in (papers if isinstance(papers, list) else [papers]) if isinstance(v, UnquotedText)}
    problems: list[str] = []
    try:
        catalog = Catalog.model_validate(doc)
    except ValidationError as invalid:
        problems = [_problem(error) for error in invalid.errors()]
        for error in invalid.errors():      # leave out what does not fit, keep the rest
            section, *position = error["loc"]
            if section in doc and position and isinstance(doc[section], list):
                doc[section][position[0]] = None
            else:
                doc.pop(section, None)
        doc = {k: [v for v in values if v is not None] if isinstance(values, list) else values
               for k, values in doc.items()}
        catalog = Catalog.model_validate(doc)
    entries = []
    for section, kind in CATALOG_KINDS.items():
        for value in getattr(catalog, section):
            key = value.strip()
            if not key:
                problems.append(f"{section}: empty id")
            elif kind == "paper" and value in unquoted_papers and normalize_arxiv_id(key) is None:
                problems.append(f"{section}: {key!r} was written as a number, and as written is not an arXiv id: "
                                f"quote it (\"{key}\")")
            else:
                entries.append((kind, key))
    return sorted(set(entries)), problems


@dg.asset(group_name="ingest", kinds={"yaml", "duckdb"})
def catalog(snapshot: SnapshotResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Tracked entities from the snapshot's `catalog.yaml`: one row per (kind, key), kind in
    org | model | paper | benchmark. No catalog file means everything in the snapshot is tracked.
    The file is checked against `Catalog` (ids are the text written; entries and sections that do
    not fit are quarantined, source `catalog`, the rest is tracked)."""
    log = IngestLog("catalog", snapshot.source)
    path = snapshot.catalog_path
    entries: list[tuple[str, str]] = []
    present = os.path.lexists(path)
    if present:
        try:
            text = read_source_file(path.parent, path, MAX_CATALOG_BYTES, "catalog.yaml").decode(errors="replace")
        except FileRefused as refused:
            log.fail(str(path), refused.reason, failure_payload(file=path.name))
        else:
            entries, problems = read_catalog(text)
            for problem in problems:
                log.fail(str(path), problem, failure_payload(file=path.name))
    log.records = len(entries)
    frame = pd.DataFrame(entries, columns=["kind", "key"], dtype="string")
    with warehouse.connect() as con:
        con.register("catalog_entries", frame)
        warehouse.replace_rows(con, "raw.catalog", ("kind", "key"), "SELECT DISTINCT kind, key FROM catalog_entries")
        log.save(con)
    counts = frame["kind"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={**log.metadata(), "catalog_file": str(path) if present else "none (tracking everything)",
                  "tracked": dg.MetadataValue.json(counts)}
    )
