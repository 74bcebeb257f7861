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
from urllib.parse import urlsplit

import arxiv as arxiv_lib
import dagster as dg
import requests
import urllib3
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from assets.sources.arxiv.feeds import read_feed
from assets.sources.http import CONNECT_RETRY_SECONDS, CircuitBreaker

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
