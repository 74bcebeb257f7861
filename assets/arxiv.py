"""arXiv ingestion: metadata of every paper a source links to, latest version, incremental.

Which papers: every arXiv reference of a Hub model (`raw.hub_models.arxiv_ids`), of a benchmark
table row (`paper_url` / `source_url` on arxiv.org, abs or pdf, any version) and of the catalog
(`kind = 'paper'`), collected by `warehouse/sql/arxiv_references.sql` and normalised by
`normalize_arxiv_id`. A reference that cannot be read as an arXiv id is quarantined with its text.

Both modes read every `arxiv/*.xml` of `snapshot.root` (Atom feeds as the arXiv API returns them)
with the library's own parser into `raw.arxiv_papers`, keeping the newest version of a paper seen
in several feeds (then the newest `updated`, then the newest feed). Only feeds that are new or
changed since the last run are parsed: `raw.arxiv_feed_files` and `raw.arxiv_feed_entries` keep
what each feed held. Error feeds and bodies that are not Atom are quarantined. A referenced id
that a feed asked for (the feed's own query link, or our fetch state) but that came back without
an entry is recorded in `raw.arxiv_missing`, and so is a referenced id that no feed covers, with the
reason "not fetched" (a snapshot holds the papers it chose to record, not every paper its tables cite;
`papers.status` tells the two apart). Neither is bad input, so neither is quarantined.

Live mode first fills the fetch cache (`<cache>/arxiv/<UTC time>_<hash of ids>_<page>.xml`,
byte-exact bodies) and keeps `<cache>/arxiv/_fetch_state.json` (when each id was last asked, which
claimed versions were checked, ids arXiv refused). It asks for:

- **new ids**: referenced, never asked before;
- **claimed newer versions**: a source cites `1911.02116v3` while we hold v2 (asked once per
  claimed version, so a wrong claim does not cost a request every night);
- **the rolling window**: with `recheck_days = N` (30 by default) each known paper, and each id
  arXiv did not know, has a slot night `sha1(id) mod N`; it is re-checked on the night whose
  `date.toordinal() mod N` equals its slot, so about 1/N of known papers are re-checked each night
  and every one once every N nights. A paper whose slot night was missed (no run that night) is
  re-checked on the next run once its last check is more than N days old.

Nothing is asked twice on the same UTC day, so a rerun of an unchanged night costs no request. New
ids cost one request per 100; the nightly re-check of K known papers costs about K / (100 N).

Areas: `warehouse/reference/arxiv_category_areas.csv` maps each arXiv category (as found in
`primary_category`) to an area; core SQL uses it when a benchmark gives no area.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path

import arxiv as arxiv_lib
import dagster as dg
import duckdb
import pandas as pd

from assets.ingest_log import (EXCERPT_CHARS, FAILURE_TYPE, IngestLog, code_version, failure_payload, files_to_read,
                               source_answered_spec)
from pipelines.clients.arxiv import (
    ArxivResource,
    FetchedFeed,
    normalize_arxiv_id,
    read_feed,
    split_version,
)
from pipelines.clients import stable_slot
from pipelines.resources import SnapshotResource, WarehouseResource, utc_now
from pipelines.snapshot_files import FileRefused, open_source_file, read_source_file, write_atomic
from warehouse import sql

STATE_FILE = "_fetch_state.json"

_WITHDRAWN_TEXT = re.compile(
    r"^\s*[\[(]?\s*withdrawn\b"                                      # "Withdrawn: ...", "[withdrawn]"
    r"|\b(?:has|have|had)\s+been\s+withdrawn\b"                      # "This paper has been withdrawn"
    r"|\b(?:is|was)\s+withdrawn\b"
    r"|\bwithdrawn\s+(?:by|due|because|for|from|at)\b"
    r"|\b(?:paper|article|submission|manuscript|preprint)\s+withdrawn\b"
    r"|\bwithdrawn\W*$",
    re.IGNORECASE,
)
_WITHDRAWN_TITLE = re.compile(r"^\W*withdrawn\b|^\W*(?:this\s+)?(?:paper|article|submission)\s+(?:has\s+been\s+)?withdrawn\b",
                              re.IGNORECASE)
_WITHDRAWN_ABSTRACT = re.compile(
    r"^\W*(?:this\s+(?:paper|article|submission|manuscript|preprint)\s+)?has\s+been\s+withdrawn", re.IGNORECASE)


def is_withdrawn(title: str | None, comment: str | None, summary: str | None = None) -> bool:
    """A paper is withdrawn when its comment or title says so (or its abstract opens by saying so,
    as arXiv's withdrawal notices do)."""
    return bool(
        (comment and _WITHDRAWN_TEXT.search(comment))
        or (title and _WITHDRAWN_TITLE.search(title))
        or (summary and _WITHDRAWN_ABSTRACT.search(summary))
    )


# --- references --------------------------------------------------------------------------------


@dataclass
class References:
    versions: dict[str, int | None] = field(default_factory=dict)  # id -> highest explicit version cited
    by_source: Counter = field(default_factory=Counter)


def collect_references(rows: list[tuple[str, str, str, int]], log: IngestLog) -> References:
    """Normalise (source, reference, record_key, records) rows; quarantine what does not parse."""
    refs = References()
    for source, reference, record_key, _records in rows:
        parsed = normalize_arxiv_id(reference)
        if parsed is None:
            log.fail(f"{source}|{record_key}", "unparsable arXiv reference",
                     failure_payload(cited_by=source, record=record_key, reference=reference))
            continue
        arxiv_id, version = parsed
        held = refs.versions.get(arxiv_id)
        refs.versions[arxiv_id] = max(held or 0, version or 0) or None
        refs.by_source[source] += 1
    return refs


# --- feeds -------------------------------------------------------------------------------------


@dataclass
class FeedScan:
    versions: dict[str, int | None] = field(default_factory=dict)  # arxiv_id -> latest version held
    asked: dict[str, datetime] = field(default_factory=dict)     # arxiv_id -> last time a feed asked for it
    feeds: int = 0                                               # feeds read (not refused)
    parsed: int = 0                                              # feeds parsed by this scan (new or changed)


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value == datetime.min:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def paper_row(result: arxiv_lib.Result, fetched_at: datetime) -> dict | None:
    arxiv_id, version = split_version(result.get_short_id())
    if normalize_arxiv_id(arxiv_id) is None:
        return None
    return {
        "arxiv_id": arxiv_id,
        "version": version,
        "title": result.title.strip(),
        "authors": [author.name for author in result.authors],
        "summary": result.summary.strip(),
        "published": _naive_utc(result.published),
        "updated": _naive_utc(result.updated),
        "primary_category": result.primary_category or None,
        "categories": list(result.categories),
        "doi": result.doi or None,
        "journal_ref": result.journal_ref or None,
        "comment": result.comment or None,
        "links": [link.href for link in result.links],
        "withdrawn": is_withdrawn(result.title, result.comment, result.summary),
        "fetched_at": fetched_at,
    }


@dataclass
class FeedFile:
    """What one feed file holds: a row of raw.arxiv_feed_files and its entries."""

    source_file: str
    bytes: int
    mtime_ns: int
    refused: bool = False
    fetched_at: datetime | None = None
    asked: list[str] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)

    def fail(self, record_key: str, reason: str, **payload: object) -> None:
        """Quarantine the feed or one of its entries; `payload`: what identifies it besides the file."""
        self.failures.append({"record_key": record_key, "reason": reason,
                              "payload": failure_payload(file=self.source_file, **payload)})


def _listed_feed_stat(root: Path, path: Path, max_bytes: int) -> tuple[int, int]:
    """(bytes, mtime_ns) of a listed feed: of the file when the jail admits it, else of the entry
    itself (a link, a FIFO), which is all that is looked at of it."""
    try:
        listed = open_source_file(root, path, max_bytes, "feed")
        return listed.size, listed.mtime_ns
    except FileRefused:
        info = os.lstat(path)
        return info.st_size, info.st_mtime_ns


def read_feed_file(root: Path, relative: str, max_bytes: int) -> FeedFile:
    """Parse the feed file `relative` under `root` with the library's parser (`read_feed`), read
    through the snapshot jail (`pipelines.snapshot_files`); never raises on content."""
    path = root / relative
    size, mtime_ns = _listed_feed_stat(root, path, max_bytes)
    feed = FeedFile(relative, size, mtime_ns)
    feed.fetched_at = datetime.fromtimestamp(mtime_ns / 1e9, timezone.utc).replace(tzinfo=None, microsecond=0)
    try:
        body = read_source_file(root, path, max_bytes, "feed")
    except FileRefused as refused:
        feed.refused = True
        feed.fail(relative, refused.reason, bytes=size)
        return feed
    info = read_feed(body)
    if info.problem:
        feed.refused = True
        feed.fail(relative, info.problem, excerpt=body[:EXCERPT_CHARS].decode("utf-8", "replace"))
        return feed
    for key, reason in info.entry_problems:
        feed.fail(relative if key is None else f"{relative}|{key}", reason, entry=key)
    feed.fetched_at = _naive_utc(info.feed_time) or feed.fetched_at
    feed.asked = list(dict.fromkeys(parsed[0] for parsed in map(normalize_arxiv_id, info.asked_ids) if parsed))
    for position, result in enumerate(info.results):
        row = paper_row(result, feed.fetched_at)
        if row is None:
            feed.fail(f"{relative}|{result.entry_id}", "entry id is not an arXiv id", id=result.entry_id)
            continue
        feed.entries.append({"source_file": relative, "position": position, **row})
    return feed


# What a feed's rows depend on besides its bytes: this module, the feed reader and the parsing libraries.
FEED_PARSER = code_version(__file__, Path(inspect.getfile(read_feed)).read_text(), package_version("arxiv"),
                           package_version("lxml"))
FEED_ENTRY_COLUMNS = ["source_file", "position", "arxiv_id", "version", "title", "authors", "summary", "published",
                      "updated", "primary_category", "categories", "doi", "journal_ref", "comment", "links",
                      "withdrawn", "fetched_at"]

# The newest version of each paper over all feeds (then the newest `updated`, then the newest feed,
# then the first entry of that feed): one row per arxiv_id of raw.arxiv_feed_entries.
LATEST_ENTRIES = """
    SELECT * FROM raw.arxiv_feed_entries
    QUALIFY row_number() OVER (PARTITION BY arxiv_id ORDER BY coalesce(version, 0) DESC,
                               coalesce(updated, TIMESTAMP '0001-01-01') DESC, fetched_at DESC, source_file DESC,
                               position) = 1
"""


def _insert_feeds(con: duckdb.DuckDBPyConnection, feeds: list[FeedFile]) -> None:
    files = pd.DataFrame([(f.source_file, f.bytes, f.mtime_ns, f.refused, f.fetched_at, json.dumps(f.asked),
                           json.dumps(f.failures)) for f in feeds],
                         columns=["source_file", "bytes", "mtime_ns", "refused", "fetched_at", "asked", "failures"])
    entries = pd.DataFrame([e for f in feeds for e in f.entries], columns=FEED_ENTRY_COLUMNS)
    con.register("read_feed_files", files)
    con.register("read_feed_entries", entries)
    con.execute(
        f"""
        INSERT INTO raw.arxiv_feed_files
        SELECT source_file, bytes, mtime_ns, ?, refused, fetched_at::TIMESTAMP, asked::JSON::VARCHAR[],
               failures::JSON::{FAILURE_TYPE}, ?
        FROM read_feed_files
        """, [FEED_PARSER, utc_now()])
    con.execute(
        """
        INSERT INTO raw.arxiv_feed_entries
        SELECT source_file, position, arxiv_id, version::INTEGER, title, authors::VARCHAR[], summary,
               published::TIMESTAMP, updated::TIMESTAMP, primary_category, categories::VARCHAR[], doi, journal_ref,
               comment, links::VARCHAR[], withdrawn::BOOLEAN, fetched_at::TIMESTAMP
        FROM read_feed_entries
        """)
    con.unregister("read_feed_files")
    con.unregister("read_feed_entries")


def scan_feeds(con: duckdb.DuckDBPyConnection, root: Path, max_bytes: int) -> FeedScan:
    """Bring raw.arxiv_feed_files and raw.arxiv_feed_entries up to date with every `arxiv/*.xml`
    under `root` (parsing only feeds that are new or whose size, modification time or parsing code
    changed; dropping those of deleted feeds), then report what all feeds hold together. A feed
    that is a link leaving `root`, not a regular file, or over `max_bytes` is refused unread."""
    listed = pd.DataFrame([(str(p.relative_to(root)), *_listed_feed_stat(root, p, max_bytes))
                           for p in sorted((root / "arxiv").glob("*.xml"))],
                          columns=["source_file", "bytes", "mtime_ns"]).astype(
                              {"source_file": "string", "bytes": "int64", "mtime_ns": "int64"})
    con.register("listed_feed_files", listed)
    con.execute("BEGIN")
    to_read = files_to_read(con, "raw.arxiv_feed_files", "listed_feed_files", ("bytes", "mtime_ns"), FEED_PARSER)
    con.execute("DELETE FROM raw.arxiv_feed_entries WHERE source_file NOT IN (SELECT source_file FROM raw.arxiv_feed_files)")
    feeds = [read_feed_file(root, name, max_bytes) for name in to_read["source_file"]]
    if feeds:
        _insert_feeds(con, feeds)
    con.execute("COMMIT")
    con.unregister("listed_feed_files")
    scan = FeedScan(parsed=len(feeds))
    scan.feeds = con.execute("SELECT count(*) FILTER (NOT refused) FROM raw.arxiv_feed_files").fetchall()[0][0]
    scan.versions = dict(con.execute(f"SELECT arxiv_id, version FROM ({LATEST_ENTRIES})").fetchall())
    scan.asked = dict(con.execute(
        """
        SELECT arxiv_id, max(fetched_at) FROM (
            SELECT unnest(asked) AS arxiv_id, fetched_at FROM raw.arxiv_feed_files WHERE NOT refused
            UNION ALL
            SELECT arxiv_id, fetched_at FROM raw.arxiv_feed_entries)
        GROUP BY arxiv_id
        """).fetchall())
    return scan


# --- the incremental plan ----------------------------------------------------------------------


@dataclass
class FetchState:
    """`<cache>/arxiv/_fetch_state.json`: when each id was last asked, claims checked, refusals."""

    checked: dict[str, str] = field(default_factory=dict)     # id -> ISO time of the last request
    claims: dict[str, int] = field(default_factory=dict)      # id -> highest claimed version asked for
    rejected: dict[str, str] = field(default_factory=dict)    # id -> why arXiv refused it (HTTP 400)

    @classmethod
    def load(cls, path: Path) -> "FetchState":
        try:
            doc = json.loads(path.read_text())
            return cls(dict(doc.get("checked", {})), {k: int(v) for k, v in doc.get("claims", {}).items()},
                       dict(doc.get("rejected", {})))
        except (OSError, ValueError, TypeError, AttributeError):
            return cls()

    def save(self, path: Path) -> None:
        write_atomic(path, json.dumps({"checked": self.checked, "claims": self.claims, "rejected": self.rejected},
                                      indent=0, sort_keys=True).encode())


def last_asked(scan: FeedScan, state: "FetchState") -> dict[str, datetime]:
    """When arXiv was last asked for each id: the newest cached feed that asked, or the fetch state."""
    asked = dict(scan.asked)
    for arxiv_id, stamp in state.checked.items():
        try:
            when = datetime.fromisoformat(stamp).replace(tzinfo=None)
        except ValueError:
            continue
        asked[arxiv_id] = max(when, asked.get(arxiv_id, datetime.min))
    return asked


def plan_fetch(references: dict[str, int | None], held_versions: dict[str, int | None],
               last_checked: dict[str, datetime], claims_checked: dict[str, int], today: date,
               recheck_days: int, skip: set[str] = frozenset()) -> dict[str, str]:
    """Which referenced ids to ask arXiv for tonight, with the reason (new, claimed-version, window,
    overdue). `held_versions` are the papers we have; `last_checked` when each id was last asked."""
    days = max(recheck_days, 1)
    plan: dict[str, str] = {}
    for arxiv_id, cited in references.items():
        if arxiv_id in skip:
            continue
        checked = last_checked.get(arxiv_id)
        if checked is None:
            plan[arxiv_id] = "new"
            continue
        if checked.date() >= today:
            continue                                  # asked already today: reruns are free
        held = held_versions.get(arxiv_id)
        if cited is not None and cited > (held or 0) and cited > claims_checked.get(arxiv_id, 0):
            plan[arxiv_id] = "claimed-version"
        elif stable_slot(arxiv_id, days) == today.toordinal() % days:
            plan[arxiv_id] = "window"
        elif (today - checked.date()).days > days:
            plan[arxiv_id] = "overdue"
    return plan


def _feed_file(feed: FetchedFeed, page: int) -> str:
    digest = hashlib.sha1(",".join(feed.ids).encode()).hexdigest()[:12]
    return f"{feed.fetched_at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}_{digest}_{page}.xml"


def fetch_live(arxiv: ArxivResource, cache_root: Path, references: dict[str, int | None], known: FeedScan,
               log: IngestLog, now: datetime) -> dict[str, int]:
    """Fill `<cache_root>/arxiv/` with tonight's feeds, given what the feeds already there hold
    (`known`); returns the plan's reason counts."""
    feeds_dir = cache_root / "arxiv"
    feeds_dir.mkdir(parents=True, exist_ok=True)
    state_path = feeds_dir / STATE_FILE
    state = FetchState.load(state_path)
    last_checked = last_asked(known, state)
    plan = plan_fetch(references, known.versions, last_checked, state.claims, now.date(), arxiv.recheck_days,
                      skip=set(state.rejected))
    run_stamp = now.replace(tzinfo=None).isoformat()
    pages: Counter = Counter()

    def on_feed(feed: FetchedFeed) -> None:
        name = _feed_file(feed, pages[tuple(feed.ids)])
        pages[tuple(feed.ids)] += 1
        write_atomic(feeds_dir / name, feed.body)
        for arxiv_id in feed.ids:
            state.checked[arxiv_id] = run_stamp
            cited = references.get(arxiv_id)
            if plan.get(arxiv_id) == "claimed-version" and cited:
                state.claims[arxiv_id] = max(cited, state.claims.get(arxiv_id, 0))
        state.save(state_path)

    if plan:
        stats = arxiv.fetch(plan, on_feed)
        log.requests += stats.requests
        log.retries += stats.retries
        for batch, reason in stats.failed_batches:
            log.fail(f"batch|{batch[0]}..{batch[-1]}|{len(batch)} ids", f"fetch failed: {reason}",
                     failure_payload(ids=",".join(batch)))
            log.stale += [("paper", arxiv_id, f"fetch failed: {reason}") for arxiv_id in batch]
        log.judge_fetch(stats.batches, len(stats.failed_batches), stats.unreachable)
        for arxiv_id, reason in stats.rejected_ids:
            state.rejected[arxiv_id] = reason
        if stats.rejected_ids:
            state.save(state_path)
    return dict(Counter(plan.values()))


# --- the asset ---------------------------------------------------------------------------------


# the reason of a referenced id that no feed covers; papers.sql gives these the status 'not_fetched'
NOT_FETCHED = "not fetched: no arXiv feed covers this id"
PAPER_COLUMNS = ["arxiv_id", "version", "title", "authors", "summary", "published", "updated", "primary_category",
                 "categories", "doi", "journal_ref", "comment", "links", "withdrawn", "fetched_at"]


@dg.asset(group_name="ingest", kinds={"arxiv", "duckdb"}, deps=["catalog", "benchmark_table_rows", "hub_models"],
          check_specs=[source_answered_spec("arxiv_papers")])
def arxiv_papers(snapshot: SnapshotResource, warehouse: WarehouseResource, arxiv: ArxivResource
                 ) -> dg.MaterializeResult:
    """arXiv metadata of every paper a Hub model, a benchmark table row or the catalog refers to.

    `raw.arxiv_papers`: one row per paper, key `arxiv_id` without version (`1911.02116`,
    `hep-th/9901001`), latest version kept with its number. `raw.arxiv_missing`: one row per
    referenced id arXiv did not return or no feed covers (reason `not fetched: ...`), key `arxiv_id`. In live mode only new ids, claimed newer
    versions and the rolling window of known papers are asked for (see the module docstring)."""
    log = IngestLog("arxiv", snapshot.source, lacks=snapshot.lacking("arxiv"))
    now = utc_now()
    with warehouse.connect() as con:
        warehouse.run_sql(con, "create_raw_schema")
        con.execute(sql("arxiv_references"))
        rows = con.execute("SELECT source, reference, record_key, records FROM arxiv_references").fetchall()
    refs = collect_references(rows, log)

    plan: dict[str, int] = {}
    if snapshot.live:
        with warehouse.connect() as con:
            known = scan_feeds(con, snapshot.root, snapshot.max_feed_bytes)
        plan = fetch_live(arxiv, snapshot.root, refs.versions, known, log, now)
    with warehouse.connect() as con:
        scan = scan_feeds(con, snapshot.root, snapshot.max_feed_bytes)
        log.recall(con, "raw.arxiv_feed_files")
    state = FetchState.load(snapshot.root / "arxiv" / STATE_FILE) if snapshot.live else FetchState()
    rejected = state.rejected
    asked = last_asked(scan, state)

    missing_rows = []
    unfetched = 0
    for arxiv_id, cited in sorted(refs.versions.items()):
        if arxiv_id in scan.versions:
            held = scan.versions[arxiv_id]
            if cited is not None and held is not None and cited > held:
                log.fail(f"paper|{arxiv_id}v{cited}", f"cited version v{cited} unknown to arXiv "
                         f"(latest v{held})", failure_payload(id=arxiv_id, cited_version=cited, latest_version=held))
            continue
        if arxiv_id in rejected:
            log.fail(f"paper|{arxiv_id}", f"refused by arXiv: {rejected[arxiv_id]}", failure_payload(id=arxiv_id))
        elif arxiv_id in asked:
            missing_rows.append((arxiv_id, "asked, arXiv returned no entry", asked[arxiv_id]))
        else:
            unfetched += 1
            missing_rows.append((arxiv_id, NOT_FETCHED, None))  # never asked: no time

    missing = pd.DataFrame(missing_rows, columns=["arxiv_id", "reason", "seen_at"])
    with warehouse.connect() as con:
        warehouse.run_sql(con, "create_raw_schema")
        con.register("missing_papers", missing)
        con.execute("BEGIN")
        warehouse.replace_rows(con, "raw.arxiv_papers", "arxiv_id",
                               f"SELECT {', '.join(PAPER_COLUMNS)} FROM ({LATEST_ENTRIES})")
        con.execute("DELETE FROM raw.arxiv_missing")
        con.execute("INSERT INTO raw.arxiv_missing SELECT arxiv_id, reason, seen_at::TIMESTAMP FROM missing_papers")
        log.save_stale(con, "paper", sorted(refs.versions))
        log.records, withdrawn = con.execute("SELECT count(*), count(*) FILTER (withdrawn) FROM raw.arxiv_papers").fetchall()[0]
        log.save(con)
        con.execute("COMMIT")
    return dg.MaterializeResult(
        metadata={
            **log.metadata(),
            "papers": dg.MetadataValue.int(log.records),
            "missing": dg.MetadataValue.int(len(missing) - unfetched),
            "withdrawn": dg.MetadataValue.int(withdrawn),
            "referenced_ids": dg.MetadataValue.int(len(refs.versions)),
            "references_by_source": dg.MetadataValue.json(dict(refs.by_source)),
            "not_fetched": dg.MetadataValue.int(unfetched),
            "feeds_read": dg.MetadataValue.int(scan.feeds),
            "feeds_parsed": dg.MetadataValue.int(scan.parsed),
            "fetch_plan": dg.MetadataValue.json(plan),
            "recheck_days": dg.MetadataValue.int(arxiv.recheck_days),
        },
        check_results=[log.source_answered(warehouse.publish_anyway)],
    )
