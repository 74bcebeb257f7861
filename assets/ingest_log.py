"""Bookkeeping shared by the ingest assets: quarantined records and one row per source run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from pipelines.resources import utc_now

FAILURE_PREVIEW_CHARS = 2000
# The type of a list of quarantined records kept beside incremental rows (record_key, reason, payload).
FAILURE_TYPE = "STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[]"


def code_version(module_file: str, *inputs: str) -> str:
    """A short hash of an ingest module's source and whatever else its parsed rows depend on (SQL
    texts, library versions): stored beside incremental rows, so that new code parses everything again."""
    return hashlib.sha256(Path(module_file).read_bytes() + "\0".join(inputs).encode()).hexdigest()[:16]


def files_to_read(con: duckdb.DuckDBPyConnection, read: str, listed: str, version: tuple[str, ...],
                  parser: str) -> pd.DataFrame:
    """The incremental step every file-reading ingest shares. `read` is the table of files read
    before (`source_file`, the `version` columns, `parser`); `listed` the files there are now, same
    columns. Forget the files no longer listed, changed (a `version` column differs) or read by
    other code, and return the listed rows of the files to read (again)."""
    same = " AND ".join(f"l.{column} = r.{column}" for column in ("source_file", *version))
    con.execute(f"DELETE FROM {read} AS r WHERE parser <> ? OR NOT EXISTS (SELECT 1 FROM {listed} AS l WHERE {same})",
                [parser])
    return con.execute(f"SELECT DISTINCT * FROM {listed} WHERE source_file NOT IN (SELECT source_file FROM {read}) "
                       f"ORDER BY source_file").df()


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

    def fail(self, record_key: str, reason: str, payload: object = None) -> None:
        text = None if payload is None else str(payload)[:FAILURE_PREVIEW_CHARS]
        self.failures.append((record_key, reason, text))

    def recall(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        """Add the records refused by the files or models that an incremental ingest kept in
        `table` (its `failures` column): they are quarantined again although not read again."""
        for key, reason, payload in con.execute(
                f"SELECT f.record_key, f.reason, f.payload FROM {table}, unnest(failures) AS u(f)").fetchall():
            self.fail(key, reason, payload)

    def save(self, con: duckdb.DuckDBPyConnection) -> None:
        """Replace this source's failures and append its run row (idempotent per run)."""
        frame = pd.DataFrame(self.failures, columns=["record_key", "reason", "payload"], dtype="string")
        frame = frame.drop_duplicates()
        seen_at = utc_now()
        con.register("source_failures", frame)
        con.execute("DELETE FROM raw.ingest_failures WHERE source = ?", [self.source])
        con.execute(
            "INSERT INTO raw.ingest_failures SELECT ?, record_key, reason, payload, ? FROM source_failures",
            [self.source, seen_at],
        )
        con.execute(
            "INSERT INTO raw.source_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [self.source, self.started_at, seen_at, self.mode, self.records, len(frame), self.requests, self.retries],
        )

    def metadata(self) -> dict[str, dg.MetadataValue]:
        reasons = pd.Series([reason.split(":")[0] for _, reason, _ in self.failures], dtype="string")
        return {
            "records": dg.MetadataValue.int(self.records),
            "quarantined": dg.MetadataValue.int(len(self.failures)),
            "requests": dg.MetadataValue.int(self.requests),
            "retries": dg.MetadataValue.int(self.retries),
            "quarantine_reasons": dg.MetadataValue.json(reasons.value_counts().to_dict()),
            "snapshot_lacks": dg.MetadataValue.json(self.lacks),
        }
