"""arXiv client: the `arxiv` resource and the batched live fetch of paper metadata by id.

Fetching goes through the real `arxiv.Client` (its own URL building, paging and spacing), with:

- `query_url_format` set per instance (`ArxivResource.query_url`);
- `Search(id_list=batch, max_results=None)`: the library's default `max_results=100` would
  silently drop results beyond 100; batches are at most `batch_size` (<= 100) ids, validated by
  `assets.sources.arxiv.ids` first (arXiv answers a batch that contains one malformed id with
  HTTP 400 for the whole batch);
- one client per run, so the library's `delay_seconds` spacing holds between every request of the
  run, batches and retries alike;
- the library's own retries switched off (its `num_retries=0`: it retries every non-200, 400
  included, immediately); instead the shared HTTP layer (`assets.sources.http`) retries 429, 5xx,
  timeouts, dropped connections, cut-off or non-Atom bodies as `Transient` with the resource's
  `RetryPolicy`: exponential backoff or the server's `Retry-After`, at most `max_retries` times per
  batch (`num_retries` is the field's former name, still accepted), within `retry_budget_seconds`
  of waiting per run when one is set;
- a `requests` session given to the client (`assets.sources.arxiv.library.use_session`) with a
  `timeout_seconds` timeout on every request (the library sets none, so a hung server would block
  the run for ever), counting requests in `RequestStats` and keeping every response;
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
from urllib.parse import urlsplit

import arxiv as arxiv_lib
import dagster as dg
import requests
import urllib3
from pydantic import Field

from assets.sources.arxiv.feeds import read_feed
from assets.sources.arxiv.library import use_session
from assets.sources.http import CircuitBreaker, RequestStats, RetryPolicy, Transient, retry_after, retrying

# --- live fetching -----------------------------------------------------------------------------


class ArxivFetchFailed(Exception):
    """A batch that still failed after its retries (recorded; the ids stay unchecked for next run)."""


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
class FetchStats(RequestStats):
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
        self.stats.sent()
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
    max_retries: int = 4
    num_retries: int | None = Field(
        default=None, description="Deprecated: the former name of max_retries, which it overrides when set.")
    timeout_seconds: float = 30.0
    backoff_seconds: float = 5.0
    max_backoff_seconds: float = 120.0
    retry_budget_seconds: float | None = None
    recheck_days: int = 30

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=self.max_retries if self.num_retries is None else self.num_retries,
                           timeout_seconds=self.timeout_seconds, backoff_seconds=self.backoff_seconds,
                           max_backoff_seconds=self.max_backoff_seconds,
                           retry_budget_seconds=self.retry_budget_seconds)

    def fetch(self, ids: Iterable[str], on_feed: Callable[[FetchedFeed], None],
              sleep: Callable[[float], None] = time.sleep) -> FetchStats:
        """Look `ids` (without version, validated) up in batches; `on_feed` gets every body."""
        stats = FetchStats()
        policy = self.retry_policy()
        client = arxiv_lib.Client(page_size=min(max(self.batch_size, 1), 100),
                                  delay_seconds=self.delay_seconds, num_retries=0)
        client.query_url_format = self.query_url
        breaker = CircuitBreaker()
        session = _TimeoutSession(policy.timeout_seconds, stats, breaker)
        use_session(client, session)
        try:
            pending = [list(batch) for batch in _chunks(sorted(set(ids)), client.page_size)]
            while pending:
                batch = pending.pop(0)
                stats.batches += 1
                try:
                    self._fetch_batch(client, session, batch, policy, stats, on_feed, sleep)
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

    @staticmethod
    def _fetch_batch(client: arxiv_lib.Client, session: _TimeoutSession, batch: list[str], policy: RetryPolicy,
                     stats: FetchStats, on_feed: Callable[[FetchedFeed], None],
                     sleep: Callable[[float], None]) -> None:
        try:
            feeds = retrying(policy, stats, sleep)(ArxivResource._attempt, client, session, batch)
        except Transient as exc:
            raise ArxivFetchFailed(f"gave up after {policy.max_retries} retries: {exc}") from exc
        for feed in feeds:
            on_feed(feed)

    @staticmethod
    def _attempt(client: arxiv_lib.Client, session: _TimeoutSession, batch: list[str]) -> list[FetchedFeed]:
        session.responses.clear()
        search = arxiv_lib.Search(id_list=batch, max_results=None)
        try:
            list(client.results(search))
        except arxiv_lib.HTTPError as exc:
            last = session.responses[-1] if session.responses else None
            if exc.status == 429 or exc.status >= 500:
                raise Transient(f"HTTP {exc.status}", retry_after(last.headers) if last is not None else None) from exc
            if exc.status == 400:
                body = last.content if last is not None else b""
                problem = read_feed(body).problem if body else None
                raise _BadRequest(f"HTTP 400: {problem or 'arXiv refused the id list'}", _error_id(body)) from exc
            raise ArxivFetchFailed(f"HTTP {exc.status}") from exc
        except arxiv_lib.UnexpectedEmptyPageError as exc:
            raise Transient("unexpectedly empty page") from exc
        except (ValueError, TypeError, OverflowError):
            pass  # the library could not read an entry (a malformed date): read_feed accounts for it below
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            connection = isinstance(exc, requests.ConnectionError) and _connection_level(exc)
            raise Transient(f"{type(exc).__name__}: {exc}", connection=connection) from exc
        feeds = []
        for response in session.responses:
            info = read_feed(response.content)
            if info.problem and info.problem.startswith("arXiv error feed"):
                raise _BadRequest(info.problem, _error_id(response.content))
            if info.problem:
                raise Transient(info.problem)
            feeds.append(FetchedFeed(batch, response.url, response.content,
                                     info.feed_time or datetime.now(timezone.utc)))
        return feeds


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
