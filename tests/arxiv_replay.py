"""Replay of the arXiv query API on a `ReplayServer`: GET /api/query?id_list=...&max_results=...

Answers like the real API (shapes taken from the byte-exact recordings in tests/data/shared/arxiv/):
a 200 Atom feed holding the entries of the requested ids that the corpus knows, in request order,
unknown ids simply absent (an empty feed when none is known); a bare id gets the latest version, a
versioned id that version; an id of malformed format makes the whole request a 400 with arXiv's
error feed. Entries are the recorded ones, byte for byte, plus the fixtures in tests/data/arxiv/.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

from replay import ReplayServer, Request, Response

FIXTURES = Path(__file__).parent / "data" / "arxiv"
RECORDED = Path(__file__).parent / "data" / "shared" / "arxiv"

_ENTRY = re.compile(rb"  <entry>\n.*?</entry>\n", re.DOTALL)
_ENTRY_ID = re.compile(rb"<id>https?://arxiv\.org/abs/(.+?)</id>")
# the API's own, looser, format check (arXiv answers 400 "incorrect id format" outside it)
_API_FORMAT = re.compile(r"(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Za-z]{2})?/\d{7})(v\d+)?")

HEADER = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom"'
    ' xmlns="http://www.w3.org/2005/Atom">\n'
    "  <id>https://arxiv.org/api/{digest}</id>\n"
    "  <title>arXiv Query: search_query=&amp;id_list={ids}&amp;start={start}&amp;max_results={size}</title>\n"
    "  <updated>{updated}</updated>\n"
    '  <link href="https://arxiv.org/api/query?search_query=&amp;start={start}&amp;max_results={size}'
    '&amp;id_list={ids}" type="application/atom+xml"/>\n'
    "  <opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>\n"
    "  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
    "  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
)
ERROR_FEED = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom"'
    ' xmlns="http://www.w3.org/2005/Atom">\n'
    "  <id>https://arxiv.org/</id>\n"
    "  <title>arXiv Search Results</title>\n"
    "  <updated>{updated}</updated>\n"
    "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
    "  <opensearch:totalResults>1</opensearch:totalResults>\n"
    "  <opensearch:startIndex>0</opensearch:startIndex>\n"
    "  <entry>\n"
    "    <id>https://arxiv.org/api/errors#incorrect_id_format_for_{bad}</id>\n"
    "    <title>Error</title>\n"
    "    <updated>{updated}</updated>\n"
    '    <link href="https://arxiv.org/api/errors#incorrect_id_format_for_{bad}" rel="alternate" type="text/html"/>\n'
    "    <summary>incorrect id format for {bad}</summary>\n"
    "    <author>\n"
    "      <name>arXiv api core</name>\n"
    "    </author>\n"
    "  </entry>\n"
    "</feed>\n"
)


def entries_of(paths: Iterable[Path]) -> list[bytes]:
    """The <entry> elements, byte-exact, of Atom feed files (error entries left out)."""
    found = []
    for path in paths:
        for entry in _ENTRY.findall(path.read_bytes()):
            if _ENTRY_ID.search(entry):
                found.append(entry)
    return found


def recorded_entries() -> list[bytes]:
    """Entries of the real recordings (tests/data/shared/arxiv) and of the fixtures (tests/data/arxiv)."""
    return entries_of(sorted(RECORDED.glob("*.xml"))) + entries_of(sorted(FIXTURES.glob("*.xml")))


def synthetic_entry(short_id: str, title: str = "A Synthetic Paper", category: str = "cs.LG") -> bytes:
    """An entry in the real shape, for tests that need many ids."""
    return (
        "  <entry>\n"
        f"    <id>http://arxiv.org/abs/{short_id}</id>\n"
        f"    <title>{title}</title>\n"
        "    <updated>2020-01-02T03:04:05Z</updated>\n"
        f'    <link href="https://arxiv.org/abs/{short_id}" rel="alternate" type="text/html"/>\n'
        f'    <link href="https://arxiv.org/pdf/{short_id}" rel="related" type="application/pdf" title="pdf"/>\n'
        "    <summary>Synthetic abstract.</summary>\n"
        f'    <category term="{category}" scheme="http://arxiv.org/schemas/atom"/>\n'
        "    <published>2020-01-02T03:04:05Z</published>\n"
        f'    <arxiv:primary_category term="{category}"/>\n'
        "    <author>\n      <name>S. Ynthetic</name>\n    </author>\n"
        "  </entry>\n"
    ).encode()


class ArxivCorpus:
    """Entries by id and version; what the replayed API knows."""

    def __init__(self, entries: Iterable[bytes]) -> None:
        self.by_version: dict[str, bytes] = {}
        self.latest: dict[str, str] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: bytes) -> None:
        short = _ENTRY_ID.search(entry)[1].decode()
        bare, _, version = short.rpartition("v")
        self.by_version[short] = entry
        held = self.latest.get(bare)
        if held is None or int(version) >= int(held.rpartition("v")[2]):
            self.latest[bare] = short

    def lookup(self, requested: str) -> bytes | None:
        if requested in self.by_version:
            return self.by_version[requested]
        short = self.latest.get(requested)
        return self.by_version[short] if short else None


def arxiv_routes(server: ReplayServer, feeds: ArxivCorpus | Iterable[bytes],
                 clock: Callable[[], datetime] | None = None) -> ArxivCorpus:
    """Route GET /api/query on `server` to a replay of `feeds` (entries or a corpus); `clock` gives
    the feed's <updated> (the response time). Returns the corpus (tests may add entries later)."""
    corpus = feeds if isinstance(feeds, ArxivCorpus) else ArxivCorpus(feeds)
    now = clock or (lambda: datetime.now(timezone.utc))

    def handler(request: Request, match: re.Match) -> Response:
        updated = now().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        ids = [i for i in ",".join(request.query.get("id_list", [""])).split(",") if i]
        start = int(request.query.get("start", ["0"])[0])
        size = int(request.query.get("max_results", ["10"])[0])
        for requested in ids:
            if not _API_FORMAT.fullmatch(requested):
                return Response(400, ERROR_FEED.format(updated=updated, bad=requested).encode(),
                                {"Content-Type": "application/atom+xml; charset=utf-8"})
        found = [entry for entry in (corpus.lookup(i) for i in ids) if entry is not None]
        page = found[start:start + size]
        joined = ",".join(ids)
        head = HEADER.format(digest=hashlib.sha1(joined.encode()).hexdigest()[:27], ids=joined, start=start,
                             size=size, updated=updated, total=len(found))
        body = head.encode() + b"".join(page) + b"</feed>\n"
        return Response(200, body, {"Content-Type": "application/atom+xml; charset=utf-8"})

    server.route("GET", r"/api/query", handler)
    return corpus
