"""Clients of the upstream sources: the Hugging Face Hub and the arXiv API."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter

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
