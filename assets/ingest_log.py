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

from pipelines.resources import utc_now

# The longest text a quarantined record's payload keeps of any one field (an excerpt, a name, a value).
EXCERPT_CHARS = 500
# The type of a list of quarantined records kept beside incremental rows (record_key, reason, payload).
FAILURE_TYPE = "STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[]"


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

    def fail(self, record_key: str, reason: str, payload: str | None) -> None:
        """Quarantine a record; `payload` is JSON text (`failure_payload`, or built the same way in SQL)."""
        self.failures.append((record_key, reason, payload))

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
