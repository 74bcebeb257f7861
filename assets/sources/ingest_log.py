"""Bookkeeping shared by the ingest assets: quarantined records and one row per source run."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from assets.sources.http import UNREACHABLE_AFTER
from warehouse.database import WarehouseResource, utc_now

# The records recalled when none is: the shape of a quarantined record, no row.
NO_FAILURES = "SELECT NULL::VARCHAR AS record_key, NULL::VARCHAR AS reason, NULL::VARCHAR AS payload WHERE false"
# The longest text a quarantined record's payload keeps of any one field (an excerpt, a name, a value).
EXCERPT_CHARS = 500


def code_version(module_file: str, *inputs: str) -> str:
    """A short hash of an ingest module's source and whatever else its parsed rows depend on (SQL
    texts, library versions), and of this module (which writes the failures kept beside them):
    stored beside incremental rows, so that new code parses everything again."""
    return hashlib.sha256(Path(module_file).read_bytes() + Path(__file__).read_bytes()
                          + "\0".join(inputs).encode()).hexdigest()[:16]


def failure_payload(**fields: object) -> str:
    """The payload of a quarantined record: JSON text of what identifies it (`file`, its path relative
    to the snapshot or cache root; `id`; names, positions) and of `excerpt` (what it held), fields
    that are None left out. A text is cut to EXCERPT_CHARS; a list or mapping (a card's metric entry)
    stays one when its JSON text is that short, else it becomes its JSON text, cut."""
    payload: dict[str, object] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, dict)):
            try:
                text = json.dumps(value, default=str, ensure_ascii=False, allow_nan=False)
            except (ValueError, RecursionError):  # NaN or infinity inside, or nested too deep
                text = str(value)
            else:
                if len(text) <= EXCERPT_CHARS:
                    payload[name] = json.loads(text)
                    continue
            value = text
        if isinstance(value, float) and not math.isfinite(value):  # not JSON
            value = str(value)
        payload[name] = value[:EXCERPT_CHARS] if isinstance(value, str) else value
    return json.dumps(payload, default=str, ensure_ascii=False, separators=(",", ":"))  # as DuckDB's json_object writes


def files_to_read(con: duckdb.DuckDBPyConnection, read_into: str, listed: str, version: tuple[str, ...],
                  parser: str) -> pd.DataFrame:
    """The incremental step every file-reading ingest shares. `read_into` is the table holding one
    row per file read before (`source_file`), whose size, time or hash and parsing code are in
    raw.files_read; `listed` the files there are now (`source_file` and the `version` columns that
    tell a changed file, of raw.files_read). Forget the files no longer listed, changed or read by
    other code (their rows in both tables), and return the listed rows of the files to read (again)."""
    same = " AND ".join(f"l.{column} = r.{column}" for column in ("source_file", *version))
    con.execute(f"DELETE FROM raw.files_read AS r WHERE read_into = $read_into AND "
                f"(parser <> $parser OR NOT EXISTS (SELECT 1 FROM {listed} AS l WHERE {same}))",
                {"read_into": read_into, "parser": parser})
    read = "(SELECT source_file FROM raw.files_read WHERE read_into = $read_into)"
    con.execute(f"DELETE FROM {read_into} WHERE source_file NOT IN {read}", {"read_into": read_into})
    return con.execute(f"SELECT DISTINCT * FROM {listed} WHERE source_file NOT IN {read} ORDER BY source_file",
                       {"read_into": read_into}).df()


SOURCE_ANSWERED = "source_answered"


def source_answered_spec(asset: str) -> dg.AssetCheckSpec:
    """The blocking check of a live-fetching ingest asset: its source did not fail wholesale."""
    return dg.AssetCheckSpec(
        SOURCE_ANSWERED, asset=asset, blocking=True,
        description="the source did not fail wholesale tonight (a host that never answered, or most fetches "
        "failed); when it did, nothing downstream is built or published, unless the operator publishes anyway "
        "(--publish-anyway, SOTABOARD_PUBLISH_ANYWAY): then the check warns and the last known data is "
        "published, marked stale in entity_freshness")


@dataclass
class IngestLog:
    """What one ingest asset saw: records loaded, records refused (with reasons), requests made."""

    source: str
    mode: str
    started_at: datetime = field(default_factory=utc_now)
    records: int = 0
    requests: int = 0
    retries: int = 0
    failures: list[tuple[str, str, str | None]] = field(default_factory=list)
    lacks: list[str] = field(default_factory=list)  # parts of the snapshot layout that were absent
    fetches: int = 0                 # live fetches attempted (requests before retries, listings included)
    fetch_failures: int = 0          # of those, the ones the source failed to answer (not a 404 and the like)
    outage: str | None = None        # why the source failed wholesale tonight (see `judge_fetch`), else None
    # entities whose fetch failed tonight, (entity, entity_id, reason): they keep their last good data
    stale: list[tuple[str, str, str]] = field(default_factory=list)
    recalled: list[str] = field(default_factory=list)   # queries of records quarantined when the log is saved
    reasons: dict[str, int] = field(default_factory=dict)  # quarantined records by kind of reason, once saved

    def fail(self, record_key: str, reason: str, payload: str | None) -> None:
        """Quarantine a record; `payload` is JSON text (`failure_payload`, or built the same way in SQL)."""
        self.failures.append((record_key, reason, payload))

    def judge_fetch(self, fetches: int, failed: int, unreachable: dict[str, str]) -> None:
        """Record tonight's fetch counts; the source failed wholesale when a host it asked never
        answered (its circuit opened before any response) or most of its fetches failed (at least
        `UNREACHABLE_AFTER` of them: one bad card of a night's one download is not an outage)."""
        self.fetches += fetches
        self.fetch_failures += failed
        if unreachable:
            self.outage = "; ".join(f"host {host} unreachable, every request failed: {reason}"
                                    for host, reason in unreachable.items())
        elif self.fetch_failures >= UNREACHABLE_AFTER and 2 * self.fetch_failures > self.fetches:
            self.outage = f"{self.fetch_failures} of {self.fetches} fetches failed"

    def recall(self, table: str) -> None:
        """Quarantine again, when the log is saved, the records refused by the files or models that an
        incremental ingest keeps in `table` (its `failures` column), although they are not read again."""
        self.quarantine_rows(f"SELECT f.record_key, f.reason, f.payload FROM {table}, unnest(failures) AS u(f)")

    def quarantine_rows(self, query: str) -> None:
        """Quarantine the records `query` selects (record_key, reason, payload), run when the log is
        saved, on the saving connection: they go from the warehouse to raw.ingest_failures in SQL."""
        self.recalled.append(query)

    def save(self, con: duckdb.DuckDBPyConnection) -> None:
        """Replace this source's failures (those logged here and those recalled) and append its run
        row (idempotent per run)."""
        frame = pd.DataFrame(self.failures, columns=["record_key", "reason", "payload"], dtype="string")
        seen_at = utc_now()
        recalled = " UNION ALL ".join(f"({query})" for query in self.recalled) or NO_FAILURES
        con.register("source_failures", frame)
        con.execute(f"CREATE OR REPLACE TEMP VIEW recalled_failures AS {recalled}")
        WarehouseResource.run_sql(con, "save_ingest_failures", source=self.source, seen_at=seen_at)
        con.execute("DROP VIEW recalled_failures")
        con.unregister("source_failures")
        self.reasons = dict(con.execute(
            "SELECT split_part(reason, ':', 1) AS kind, count(*) FROM raw.ingest_failures WHERE source = ? "
            "GROUP BY kind ORDER BY count(*) DESC, kind", [self.source]).fetchall())
        WarehouseResource.run_sql(
            con, "insert_source_run", source=self.source, started_at=self.started_at, finished_at=seen_at,
            mode=self.mode, records=self.records, failures=sum(self.reasons.values()), requests=self.requests,
            retries=self.retries, fetches=self.fetches, fetch_failures=self.fetch_failures, outage=self.outage)

    def save_stale(self, con: duckdb.DuckDBPyConnection, entity: str, tracked: list[str]) -> None:
        """Keep raw.entity_fetch_failures of `entity` for the `tracked` ids only, and record
        tonight's failed fetches of that entity there (the last failure of each id is kept)."""
        con.register("tracked_entities", pd.DataFrame({"entity_id": pd.Series(tracked, dtype="string")}))
        failed = pd.DataFrame([(i, r) for e, i, r in self.stale if e == entity],
                              columns=["entity_id", "reason"], dtype="string").drop_duplicates("entity_id")
        con.register("failed_entities", failed)
        WarehouseResource.run_sql(con, "save_entity_fetch_failures", entity=entity, failed_at=utc_now())
        con.unregister("tracked_entities")
        con.unregister("failed_entities")

    def source_answered(self, publish_anyway: bool) -> dg.AssetCheckResult:
        """The result of `source_answered_spec`: fails (ERROR, or WARN when publishing anyway) on an outage."""
        return dg.AssetCheckResult(
            check_name=SOURCE_ANSWERED, passed=self.outage is None,
            severity=dg.AssetCheckSeverity.WARN if publish_anyway else dg.AssetCheckSeverity.ERROR,
            metadata={"outage": dg.MetadataValue.text(self.outage or ""), "fetches": self.fetches,
                      "fetch_failures": self.fetch_failures})

    def metadata(self) -> dict[str, dg.MetadataValue]:
        """What the saved log holds, for the asset's materialization."""
        return {
            "records": dg.MetadataValue.int(self.records),
            "quarantined": dg.MetadataValue.int(sum(self.reasons.values())),
            "requests": dg.MetadataValue.int(self.requests),
            "retries": dg.MetadataValue.int(self.retries),
            "quarantine_reasons": dg.MetadataValue.json(self.reasons),
            "snapshot_lacks": dg.MetadataValue.json(self.lacks),
            "source": dg.MetadataValue.text(self.source),
            "fetches": dg.MetadataValue.int(self.fetches),
            "fetch_failures": dg.MetadataValue.int(self.fetch_failures),
            "outage": dg.MetadataValue.text(self.outage or ""),
        }
