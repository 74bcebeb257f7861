"""arXiv Atom feeds: read into the `arxiv` library's public `Result` (plus the header it does not
expose), the feed files of a snapshot or cache scanned incrementally, the references collected,
withdrawals read."""

from __future__ import annotations

import inspect
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib.metadata import version as package_version
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import arxiv as arxiv_lib
import duckdb
import pandas as pd
from lxml import etree

from assets.sources.arxiv.ids import normalize_arxiv_id, split_version
from assets.sources.files import FileRefused, open_source_file, read_source_file
from assets.sources.ingest_log import (
    EXCERPT_CHARS,
    IngestLog,
    code_version,
    failure_payload,
    files_to_read,
)
from assets.sources.workers import map_batches
from warehouse import sql
from warehouse.database import WarehouseResource, utc_now

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


# --- reading feeds -----------------------------------------------------------------------------

ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
# The namespaces of the arXiv API's Atom (https://info.arxiv.org/help/api/user-manual.html)
FEED_NAMESPACES = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}


@dataclass
class FeedInfo:
    """What a feed body says about itself, next to the papers it holds."""

    results: list[arxiv_lib.Result]
    feed_time: datetime | None           # the feed's own <updated>: when arXiv answered
    asked_ids: list[str]                 # id_list of the query, from the feed's self link
    problem: str | None = None           # why the feed cannot be loaded (error feed, not Atom)
    # entries that could not become papers, (key, reason): key is the entry's <id>, or
    # "entry <position>" when it has none, or None for the feed as a whole (not well-formed XML:
    # what the recovering parser salvaged is loaded, anything it dropped is accounted for by this row)
    entry_problems: list[tuple[str | None, str]] = field(default_factory=list)


# Feeds one worker process parses at a time (`map_batches`): 100 feeds of 100 entries, about 16 MB.
FEEDS_PER_BATCH = 100
_FEED_PARSER = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, FEED_NAMESPACES)
    return None if found is None else found.text


def _atom_datetime(text: str) -> datetime:
    """An Atom (RFC 3339) timestamp as an aware UTC datetime, as `arxiv.Client` reads it."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _feed_datetime(text: str | None) -> datetime | None:
    try:
        return _atom_datetime(text) if text is not None else None
    except (ValueError, TypeError, OverflowError):
        return None


def _result(entry: etree._Element) -> arxiv_lib.Result:
    """An `<entry>` (with its <id>, <updated> and <published>) as the `arxiv.Result` that
    `arxiv.Client.results` yields for it, built with the library's public constructors; raises
    ValueError on a malformed date. `tests/test_library_adapters.py` pins the equality."""
    authors = [arxiv_lib.Result.Author(name=_text(author, "atom:name") or "",
                                       affiliation=[a.text for a in author.iterfind("arxiv:affiliation", FEED_NAMESPACES)
                                                    if a.text is not None])
               for author in entry.iterfind("atom:author", FEED_NAMESPACES)]
    links = [arxiv_lib.Result.Link(href=link.get("href"), title=link.get("title"), rel=link.get("rel") or "",
                                   content_type=link.get("type"))
             for link in entry.iterfind("atom:link", FEED_NAMESPACES) if link.get("href") is not None]
    primary = entry.find("arxiv:primary_category", FEED_NAMESPACES)
    return arxiv_lib.Result(
        entry_id=_text(entry, "atom:id"),
        updated=_atom_datetime(_text(entry, "atom:updated")),
        published=_atom_datetime(_text(entry, "atom:published")),
        title=re.sub(r"\s+", " ", _text(entry, "atom:title") or ""),
        authors=authors,
        summary=_text(entry, "atom:summary") or "",
        comment=_text(entry, "arxiv:comment"),
        journal_ref=_text(entry, "arxiv:journal_ref"),
        doi=_text(entry, "arxiv:doi"),
        primary_category=(primary.get("term") if primary is not None else None) or "",
        categories=[c.get("term") for c in entry.iterfind("atom:category", FEED_NAMESPACES) if c.get("term") is not None],
        links=links,
    )


def read_feed(body: bytes) -> FeedInfo:
    """Parse an arXiv API response body entry by entry into the `arxiv.Result`s the library's
    client gives for it (`_result`), plus the feed header the library does not expose: the response
    time, the ids asked, and arXiv's error entries. Never raises on content: an entry the library
    skips (no <id>, <updated> or <published>) or cannot read (a malformed date) is reported in
    `entry_problems`, and so is a body that is not well-formed XML (read with a recovering parser,
    as the library does, which may drop its broken part). Entities are never resolved."""
    parser = etree.XMLParser(recover=True, **_FEED_PARSER)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        return FeedInfo([], None, [], f"not XML: {exc}")
    if root is None:
        return FeedInfo([], None, [], "not XML: empty document")
    if root.tag != ATOM_FEED:
        return FeedInfo([], None, [], f"not an Atom feed (root element {getattr(root, 'tag', None)!r})")
    problems: list[tuple[str | None, str]] = []
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]  # what recovery passed over
    if errors:
        problems.append((None, f"not well-formed XML (read in recovery mode, entries may be lost): "
                               f"{errors[0].message}, line {errors[0].line}, column {errors[0].column}"))
    feed_time = _feed_datetime(_text(root, "atom:updated"))
    asked: list[str] = []
    for link in root.iterfind("atom:link", FEED_NAMESPACES):
        query = parse_qs(urlsplit(link.get("href") or "").query)
        for value in query.get("id_list", []):
            asked.extend(part for part in value.split(",") if part)
    results: list[arxiv_lib.Result] = []
    for position, entry in enumerate(root.iterfind("atom:entry", FEED_NAMESPACES)):
        entry_id = _text(entry, "atom:id") or ""
        if "/api/errors" in entry_id or (_text(entry, "atom:title") or "").strip() == "Error":
            message = (_text(entry, "atom:summary") or entry_id).strip()
            return FeedInfo([], feed_time, asked, f"arXiv error feed: {message}")
        key = entry_id.strip() or f"entry {position}"
        missing = [tag for tag in ("id", "updated", "published") if not (_text(entry, f"atom:{tag}") or "").strip()]
        if missing:
            problems.append((key, f"entry without <{'>, <'.join(missing)}>"))
            continue
        try:
            results.append(_result(entry))
        except (ValueError, TypeError, OverflowError) as exc:
            problems.append((key, f"unreadable entry: {type(exc).__name__}: {str(exc)[:200]}"))
    return FeedInfo(results, feed_time, asked, None, problems)


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
    """Parse the feed file `relative` under `root` (`read_feed`), read
    through the snapshot jail (`assets.sources.files`); never raises on content."""
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


def read_feed_files(root: Path, names: list[str], max_bytes: int) -> list[FeedFile]:
    """`read_feed_file` of each of `names`, in order: one batch of `map_batches`."""
    return [read_feed_file(root, name, max_bytes) for name in names]


# What a feed's rows depend on besides its bytes: this module, the feed reader, the SQL that stores
# them and the parsing libraries.
FEED_PARSER = code_version(__file__, Path(inspect.getfile(read_feed)).read_text(), sql("insert_arxiv_feeds"),
                           package_version("arxiv"), package_version("lxml"))
FEED_ENTRY_COLUMNS = ["source_file", "position", "arxiv_id", "version", "title", "authors", "summary", "published",
                      "updated", "primary_category", "categories", "doi", "journal_ref", "comment", "links",
                      "withdrawn", "fetched_at"]

def _insert_feeds(con: duckdb.DuckDBPyConnection, feeds: list[FeedFile]) -> None:
    files = pd.DataFrame([(f.source_file, f.bytes, f.mtime_ns, f.refused, f.fetched_at, json.dumps(f.asked),
                           json.dumps(f.failures)) for f in feeds],
                         columns=["source_file", "bytes", "mtime_ns", "refused", "fetched_at", "asked", "failures"])
    entries = pd.DataFrame([e for f in feeds for e in f.entries], columns=FEED_ENTRY_COLUMNS)
    con.register("read_feed_files", files)
    con.register("read_feed_entries", entries)
    WarehouseResource.run_sql(con, "insert_arxiv_feeds", parser=FEED_PARSER, read_at=utc_now())
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
    WarehouseResource.run_sql(con, "drop_entries_of_removed_feeds")
    feeds = [feed for part in map_batches(partial(read_feed_files, root, max_bytes=max_bytes),
                                          list(to_read["source_file"]), FEEDS_PER_BATCH) for feed in part]
    if feeds:
        _insert_feeds(con, feeds)
    con.execute("COMMIT")
    con.unregister("listed_feed_files")
    scan = FeedScan(parsed=len(feeds))
    scan.feeds = con.execute("SELECT count(*) FILTER (NOT refused) FROM raw.arxiv_feed_files").fetchall()[0][0]
    scan.versions = dict(con.execute("SELECT arxiv_id, version FROM raw.arxiv_latest_entries").fetchall())
    scan.asked = dict(con.execute(
        """
        SELECT arxiv_id, max(fetched_at) FROM (
            SELECT unnest(asked) AS arxiv_id, fetched_at FROM raw.arxiv_feed_files WHERE NOT refused
            UNION ALL
            SELECT arxiv_id, fetched_at FROM raw.arxiv_feed_entries)
        GROUP BY arxiv_id
        """).fetchall())
    return scan


