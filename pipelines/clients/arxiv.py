"""arXiv client: the `arxiv` resource, id normalisation, feed reading and the batched live fetch.

Ids. `normalize_arxiv_id` turns any reference (bare id, `arXiv:` prefix, abs/pdf/html URL, arXiv
DOI `10.48550/arXiv.<id>`, with or without version) into `(id without version, version or None)`,
validating it strictly first: arXiv answers a batch that contains one malformed id with HTTP 400
for the whole batch, so nothing that fails here is ever sent.

Fetching goes through the real `arxiv.Client` (its own URL building and Atom parser), with:

- `query_url_format` set per instance (`ArxivResource.query_url`);
- `Search(id_list=batch, max_results=None)`: the library's default `max_results=100` would
  silently drop results beyond 100; batches are at most `batch_size` (<= 100) ids;
- one client per run, so the library's `delay_seconds` spacing holds between every request of the
  run, batches and retries alike;
- the library's own retries switched off (`num_retries=0`: it retries every non-200, 400 included,
  immediately); instead tenacity retries 429, 5xx, timeouts, dropped connections, cut-off or
  non-Atom bodies, with exponential backoff or the server's `Retry-After`, at most `num_retries`
  times per batch;
- a `requests` session with a timeout on every request (the library sets none, so a hung server
  would block the run for ever), counting requests;
- a 400 (malformed id that got through validation): the error feed names the id, which is dropped
  from the batch and reported; otherwise the batch is split in halves until the bad id is alone;
- connection-level failures (the name does not resolve, the connection is refused) counted per host
  in a `CircuitBreaker`: retried after at most `CONNECT_RETRY_SECONDS`, and after
  `UNREACHABLE_AFTER` in a row the host is unreachable: the batch and every later one fail at once
  (`host unreachable: ...`) instead of each waiting out its retries.

Every successful response body is handed back byte-exact with the ids asked, so the caller can
write it to the fetch cache (`arxiv/*.xml`) and parse the cache exactly as it parses a snapshot.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import arxiv as arxiv_lib
import dagster as dg
import requests
import urllib3
from arxiv import _feed
from lxml import etree
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from pipelines.clients import CONNECT_RETRY_SECONDS, CircuitBreaker

# --- ids ---------------------------------------------------------------------------------------

# Archives of pre-April-2007 identifiers (`archive/YYMMNNN`), as listed by arXiv.
OLD_STYLE_ARCHIVES = frozenset({
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn",
    "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex",
    "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th",
    "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "q-fin", "quant-ph", "solv-int", "supr-con",
})

_ID = (
    r"(?P<new>\d{4}\.\d{4,5})"
    r"|(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subject>[a-z]{2}))?/(?P<old>\d{7})"
)
_VERSION = r"(?:v(?P<version>\d{1,3}))?"
_BARE = re.compile(rf"(?:{_ID}){_VERSION}", re.IGNORECASE)
_URL = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format|ps)/(?:{_ID}){_VERSION}"
    r"(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_PREFIXED = re.compile(rf"^arxiv\s*:\s*(?:{_ID}){_VERSION}$", re.IGNORECASE)
_DOI = re.compile(
    rf"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)?10\.48550/arxiv\.(?:{_ID}){_VERSION}$", re.IGNORECASE
)


def _valid_new(number: str) -> bool:
    yymm, serial = number.split(".")
    month = int(yymm[2:])
    if not 1 <= month <= 12 or int(serial) == 0:
        return False
    if len(serial) == 4:           # 0704 (April 2007, the first new-style month) to 1412
        return 704 <= int(yymm) <= 1412
    return int(yymm) >= 1501       # five-digit serials from January 2015 on


def _valid_old(archive: str, number: str) -> bool:
    if archive not in OLD_STYLE_ARCHIVES:
        return False
    year, month, serial = int(number[:2]), int(number[2:4]), int(number[4:])
    return (year >= 91 or year <= 7) and 1 <= month <= 12 and serial > 0


def normalize_arxiv_id(text: object) -> tuple[str, int | None] | None:
    """`(arxiv_id without version, version or None)` for a reference to one arXiv paper, else None.

    Accepts `1911.02116`, `1911.02116v2`, `arXiv:1911.02116`, `https://arxiv.org/abs/1911.02116v2`,
    `arxiv.org/pdf/1911.02116v2.pdf`, `10.48550/arXiv.1911.02116`, `hep-th/9901001`,
    `math.GT/0309136` (the subject class is dropped: the id is `math/0309136`). Old-style archives
    are lower case, new-style ids are validated for month and serial width.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > 500:
        return None
    match = _BARE.fullmatch(text) or _PREFIXED.match(text) or _URL.match(text) or _DOI.match(text)
    if match is None:
        return None
    version = int(match["version"]) if match["version"] else None
    if version == 0:
        return None
    if match["new"]:
        return (match["new"], version) if _valid_new(match["new"]) else None
    archive = match["archive"].lower()
    if not _valid_old(archive, match["old"]):
        return None
    return f"{archive}/{match['old']}", version


def split_version(short_id: str) -> tuple[str, int | None]:
    """`2104.12255v1` -> (`2104.12255`, 1); `astro-ph/0601001v1` -> (`astro-ph/0601001`, 1)."""
    match = re.fullmatch(r"(.+?)v(\d+)", short_id)
    return (match[1], int(match[2])) if match else (short_id, None)


# --- reading feeds -----------------------------------------------------------------------------

ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"


@dataclass
class FeedInfo:
    """What a feed body says about itself, next to the papers `arxiv._feed` parses from it."""

    results: list[arxiv_lib.Result]
    feed_time: datetime | None           # the feed's own <updated>: when arXiv answered
    asked_ids: list[str]                 # id_list of the query, from the feed's self link
    problem: str | None = None           # why the feed cannot be loaded (error feed, not Atom)
    # entries that could not become papers, (key, reason): key is the entry's <id>, or
    # "entry <position>" when it has none, or None for the feed as a whole (not well-formed XML:
    # what the recovering parser salvaged is loaded, anything it dropped is accounted for by this row)
    entry_problems: list[tuple[str | None, str]] = field(default_factory=list)


_FEED_PARSER = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _feed_datetime(text: str | None) -> datetime | None:
    try:
        return _feed._parse_datetime(text)
    except (ValueError, TypeError, OverflowError):
        return None


def read_feed(body: bytes) -> FeedInfo:
    """Parse an arXiv API response body entry by entry with the library's parser
    (`arxiv._feed._build_result`, as `arxiv._feed.parse` does), plus the feed header it does not
    expose: the response time, the ids asked, and arXiv's error entries. Never raises on content:
    an entry the library skips (no <id>, <updated> or <published>) or cannot read (a malformed
    date) is reported in `entry_problems`, and so is a body that is not well-formed XML (the
    library's recovering parser may silently drop its broken part). Entities are never resolved."""
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
    feed_time = _feed_datetime(_feed._text(root, "atom:updated"))
    asked: list[str] = []
    for link in root.iterfind("atom:link", _feed._NS):
        query = parse_qs(urlsplit(link.get("href") or "").query)
        for value in query.get("id_list", []):
            asked.extend(part for part in value.split(",") if part)
    results: list[arxiv_lib.Result] = []
    for position, entry in enumerate(root.iterfind("atom:entry", _feed._NS)):
        entry_id = _feed._text(entry, "atom:id") or ""
        if "/api/errors" in entry_id or (_feed._text(entry, "atom:title") or "").strip() == "Error":
            message = (_feed._text(entry, "atom:summary") or entry_id).strip()
            return FeedInfo([], feed_time, asked, f"arXiv error feed: {message}")
        key = entry_id.strip() or f"entry {position}"
        missing = [tag for tag in ("id", "updated", "published") if not (_feed._text(entry, f"atom:{tag}") or "").strip()]
        if missing:
            problems.append((key, f"entry without <{'>, <'.join(missing)}>"))
            continue
        try:
            result = _feed._build_result(entry)
        except (ValueError, TypeError, OverflowError) as exc:
            problems.append((key, f"unreadable entry: {type(exc).__name__}: {str(exc)[:200]}"))
            continue
        if result is None:
            problems.append((key, "entry refused by the arxiv parser"))
            continue
        results.append(result)
    return FeedInfo(results, feed_time, asked, None, problems)


# --- live fetching -----------------------------------------------------------------------------


class ArxivFetchFailed(Exception):
    """A batch that still failed after its retries (recorded; the ids stay unchecked for next run)."""


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, connection: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.connection = connection  # connection-level: no response at all


class _BadRequest(Exception):
    def __init__(self, reason: str, bad_id: str | None) -> None:
        super().__init__(reason)
        self.bad_id = bad_id


@dataclass
class FetchedFeed:
    """One successful response: the ids asked, the URL, the body byte-exact, when it came."""

    ids: list[str]
    url: str
    body: bytes
    fetched_at: datetime


@dataclass
class FetchStats:
    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    feeds: int = 0
    batches: int = 0                                                     # batches attempted
    failed_batches: list[tuple[list[str], str]] = field(default_factory=list)
    rejected_ids: list[tuple[str, str]] = field(default_factory=list)   # (id, reason): HTTP 400
    unreachable: dict[str, str] = field(default_factory=dict)           # hosts that never answered


def _connection_level(exc: requests.ConnectionError) -> bool:
    """Whether no connection was made at all (name resolution, refused), as opposed to a
    connection that broke or timed out."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, urllib3.exceptions.NewConnectionError) and not isinstance(exc, requests.Timeout)


class _TimeoutSession(requests.Session):
    """The library's session with a timeout on every request; counts requests, keeps responses,
    and sends nothing to a host whose circuit is open."""

    def __init__(self, timeout: float, stats: FetchStats, breaker: CircuitBreaker) -> None:
        super().__init__()
        self.timeout = timeout
        self.stats = stats
        self.breaker = breaker
        self.responses: list[requests.Response] = []

    def request(self, method, url, **kwargs):  # type: ignore[override]
        host = urlsplit(url).netloc
        refusal = self.breaker.refusal(host)
        if refusal:
            raise ArxivFetchFailed(refusal)
        kwargs.setdefault("timeout", (self.timeout, self.timeout))
        self.stats.requests += 1
        try:
            response = super().request(method, url, **kwargs)
        except requests.ConnectionError as exc:
            if _connection_level(exc):
                detail = str(exc.args[0].reason).split(": ", 1)[-1]  # after the connection object's repr
                refusal = self.breaker.connection_failed(host, f"connection error ({detail})")
                if refusal:
                    raise ArxivFetchFailed(refusal) from None
            raise
        self.breaker.responded(host)
        self.responses.append(response)
        return response


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max((parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None


def _error_id(body: bytes) -> str | None:
    """The id an arXiv error feed complains about ("incorrect id format for abc")."""
    info = read_feed(body) if body else None
    if info is None or not info.problem:
        return None
    match = re.search(r"for (\S+)\s*$", info.problem)
    return match[1] if match else None


class ArxivResource(dg.ConfigurableResource):
    """The arXiv API through the `arxiv` library: batched id look-ups, polite, bounded retries.

    `delay_seconds` is the minimum spacing between two requests (arXiv asks for 3 s); `recheck_days`
    is the rolling window: each known paper is re-checked once every `recheck_days` nights.
    """

    query_url: str = "https://export.arxiv.org/api/query?{}"
    delay_seconds: float = 3.0
    batch_size: int = 100
    num_retries: int = 4
    timeout_seconds: float = 30.0
    backoff_seconds: float = 5.0
    max_backoff_seconds: float = 120.0
    recheck_days: int = 30

    def fetch(self, ids: Iterable[str], on_feed: Callable[[FetchedFeed], None],
              sleep: Callable[[float], None] = time.sleep) -> FetchStats:
        """Look `ids` (without version, validated) up in batches; `on_feed` gets every body."""
        stats = FetchStats()
        client = arxiv_lib.Client(page_size=min(max(self.batch_size, 1), 100),
                                  delay_seconds=self.delay_seconds, num_retries=0)
        client.query_url_format = self.query_url
        breaker = CircuitBreaker()
        session = _TimeoutSession(self.timeout_seconds, stats, breaker)
        client._session = session
        try:
            pending = [list(batch) for batch in _chunks(sorted(set(ids)), client.page_size)]
            while pending:
                batch = pending.pop(0)
                stats.batches += 1
                try:
                    self._fetch_batch(client, session, batch, stats, on_feed, sleep)
                except _BadRequest as exc:
                    if exc.bad_id in batch:
                        stats.rejected_ids.append((exc.bad_id, str(exc)))
                        rest = [i for i in batch if i != exc.bad_id]
                        if rest:
                            pending.insert(0, rest)
                    elif len(batch) == 1:
                        stats.rejected_ids.append((batch[0], str(exc)))
                    else:
                        half = len(batch) // 2
                        pending[:0] = [batch[:half], batch[half:]]
                except ArxivFetchFailed as exc:
                    stats.failed_batches.append((batch, str(exc)))
        finally:
            session.close()
        stats.unreachable = breaker.unreachable()
        return stats

    def _fetch_batch(self, client: arxiv_lib.Client, session: _TimeoutSession, batch: list[str],
                     stats: FetchStats, on_feed: Callable[[FetchedFeed], None],
                     sleep: Callable[[float], None]) -> None:
        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.retry_after is not None:
                return min(exc.retry_after, self.max_backoff_seconds)
            base = min(self.backoff_seconds * 2 ** (state.attempt_number - 1), self.max_backoff_seconds)
            return min(base, CONNECT_RETRY_SECONDS) if isinstance(exc, _Transient) and exc.connection else base

        def pause(seconds: float) -> None:
            stats.retries += 1
            stats.waited_seconds += seconds
            sleep(seconds)

        retrying = Retrying(stop=lambda state: state.attempt_number > self.num_retries, wait=wait, sleep=pause,
                            retry=retry_if_exception_type(_Transient), reraise=True)
        try:
            feeds = retrying(self._attempt, client, session, batch)
        except _Transient as exc:
            raise ArxivFetchFailed(f"gave up after {self.num_retries} retries: {exc}") from exc
        for feed in feeds:
            on_feed(feed)
        stats.feeds += len(feeds)

    @staticmethod
    def _attempt(client: arxiv_lib.Client, session: _TimeoutSession, batch: list[str]) -> list[FetchedFeed]:
        session.responses.clear()
        search = arxiv_lib.Search(id_list=batch, max_results=None)
        try:
            list(client.results(search))
        except arxiv_lib.HTTPError as exc:
            last = session.responses[-1] if session.responses else None
            if exc.status == 429 or exc.status >= 500:
                raise _Transient(f"HTTP {exc.status}", _retry_after(last)) from exc
            if exc.status == 400:
                body = last.content if last is not None else b""
                problem = read_feed(body).problem if body else None
                raise _BadRequest(f"HTTP 400: {problem or 'arXiv refused the id list'}", _error_id(body)) from exc
            raise ArxivFetchFailed(f"HTTP {exc.status}") from exc
        except arxiv_lib.UnexpectedEmptyPageError as exc:
            raise _Transient("unexpectedly empty page") from exc
        except (ValueError, TypeError, OverflowError):
            pass  # the library could not read an entry (a malformed date): read_feed accounts for it below
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            connection = isinstance(exc, requests.ConnectionError) and _connection_level(exc)
            raise _Transient(f"{type(exc).__name__}: {exc}", connection=connection) from exc
        feeds = []
        for response in session.responses:
            info = read_feed(response.content)
            if info.problem and info.problem.startswith("arXiv error feed"):
                raise _BadRequest(info.problem, _error_id(response.content))
            if info.problem:
                raise _Transient(info.problem)
            feeds.append(FetchedFeed(batch, response.url, response.content,
                                     info.feed_time or datetime.now(timezone.utc)))
        return feeds


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
