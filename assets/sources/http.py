"""The HTTP layer both sources share (the Hugging Face Hub and the arXiv API): one retry policy with
one set of names, one transient-failure exception, one `Retry-After` reading, one tenacity loop,
the per-host circuit breaker, and the request counts a run records.

Each client keeps only what its transport needs: `assets.sources.hub.client` an `httpx2` transport
installed into `huggingface_hub`, `assets.sources.arxiv.client` a `requests` session handed to
`arxiv.Client`. Both raise `Transient` for what is worth another attempt and run every request (the
Hub) or batch (arXiv) through `retrying(policy, stats, sleep)`:

- a `Transient` is retried at most `max_retries` times (so `1 + max_retries` attempts);
- the wait is the server's `Retry-After` (seconds or an HTTP date) when it sent one, else
  `backoff_seconds * 2**(attempt - 1)`, at most `max_backoff_seconds`; a connection-level failure
  (no response at all) waits at most `CONNECT_RETRY_SECONDS`;
- with a `retry_budget_seconds`, waiting is bounded per run: a wait longer than what is left of the
  budget stops retrying at once (a `Retry-After` is then honoured as long as the budget allows);
  without one, a `Retry-After` is waited at most `max_backoff_seconds`;
- every wait is counted in `RequestStats` (`retries`, `waited_seconds`), as every request sent is
  (`requests`), for `raw.source_runs`.

`timeout_seconds` bounds every request (connect and read) in each transport.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState, Retrying, retry_if_exception_type

# Connection-level failures (the host's name does not resolve, the connection is refused) in a row
# to one host after which the host is taken as unreachable for the rest of the fetch.
UNREACHABLE_AFTER = 3
# The longest wait before retrying a connection-level failure: it fails in milliseconds, so a long
# backoff only delays the verdict.
CONNECT_RETRY_SECONDS = 1.0


def stable_slot(key: str, days: int) -> int:
    """The night (0..days-1 of a `days`-night cycle) on which a known item (a paper, a model) is
    re-checked although nothing says it changed: the same night every cycle, spread evenly."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % max(days, 1)


class Transient(Exception):
    """A failure worth another attempt: 429, 5xx, a timeout, a dropped connection, a cut-off or
    unreadable body. `retry_after`: the server's `Retry-After` in seconds, when it sent one;
    `connection`: no connection was made at all (the name does not resolve, the connection is refused)."""

    def __init__(self, reason: str, retry_after: float | None = None, connection: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.connection = connection


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait by a `Retry-After` header (delay-seconds, or an HTTP date: the time until
    then, 0 when it is past), or None when there is none or it is neither."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """How a source's transient failures are retried and its requests bounded (the module docstring
    says how). Both resources have fields of these names and hand them over with `retry_policy()`."""

    max_retries: int
    timeout_seconds: float
    backoff_seconds: float
    max_backoff_seconds: float
    retry_budget_seconds: float | None = None   # waiting per run; None: no bound besides max_retries

    def wait(self, attempt: int, failure: BaseException | None) -> float:
        """Seconds to wait after the `attempt`-th attempt (1-based) failed with `failure`."""
        transient = failure if isinstance(failure, Transient) else None
        if transient is not None and transient.retry_after is not None:
            if self.retry_budget_seconds is None:
                return min(transient.retry_after, self.max_backoff_seconds)
            return transient.retry_after
        base = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
        return min(base, CONNECT_RETRY_SECONDS) if transient is not None and transient.connection else base


@dataclass
class RequestStats:
    """What a client sent and waited for in one run (for `raw.source_runs`); thread-safe."""

    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def sent(self) -> None:
        with self._lock:
            self.requests += 1

    def waited(self, seconds: float) -> None:
        with self._lock:
            self.retries += 1
            self.waited_seconds += seconds


def retrying(policy: RetryPolicy, stats: RequestStats, sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """The tenacity loop of `policy`: retries `Transient` only, re-raises the last one when it stops,
    counts every wait in `stats` and waits with `sleep`."""

    def failure(state: RetryCallState) -> BaseException | None:
        return state.outcome.exception() if state.outcome else None

    def wait(state: RetryCallState) -> float:
        return policy.wait(state.attempt_number, failure(state))

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number > policy.max_retries:
            return True
        if policy.retry_budget_seconds is None:
            return False
        return wait(state) > policy.retry_budget_seconds - stats.waited_seconds

    def pause(seconds: float) -> None:
        stats.waited(seconds)
        sleep(seconds)

    return Retrying(stop=stop, wait=wait, sleep=pause, retry=retry_if_exception_type(Transient), reraise=True)


class CircuitBreaker:
    """Per-host circuit breaker for connection-level failures. After `UNREACHABLE_AFTER` of them in
    a row to one host (no response in between), the circuit of that host opens: its requests fail
    at once without being sent, for the rest of the fetch. Any response (even an error status)
    closes the count again."""

    def __init__(self, threshold: int = UNREACHABLE_AFTER) -> None:
        self.threshold = threshold
        self._lock = threading.Lock()
        self._in_a_row: Counter = Counter()
        self.responses: Counter = Counter()      # host -> responses received
        self.opened: dict[str, str] = {}         # host -> the failure that opened its circuit

    def refusal(self, host: str) -> str | None:
        """Why a request to `host` is not sent (its circuit is open), or None."""
        with self._lock:
            reason = self.opened.get(host)
        return f"host unreachable: {host} ({reason}, {self.threshold} in a row)" if reason else None

    def responded(self, host: str) -> None:
        with self._lock:
            self._in_a_row[host] = 0
            self.responses[host] += 1

    def connection_failed(self, host: str, reason: str) -> str | None:
        """Count a connection-level failure; the refusal reason when it opened the circuit."""
        with self._lock:
            self._in_a_row[host] += 1
            if self._in_a_row[host] >= self.threshold:
                self.opened.setdefault(host, reason)
        return self.refusal(host)

    def unreachable(self, hosts: set[str] | None = None) -> dict[str, str]:
        """Hosts whose circuit opened before any response came: every request to them failed. With
        `hosts`, only those (the source's own hosts: a library's background request to another host,
        such as its telemetry, says nothing about the source)."""
        with self._lock:
            return {host: reason for host, reason in self.opened.items()
                    if not self.responses[host] and (hosts is None or host in hosts)}
