"""Which arXiv ids a live run asks for (new, claimed newer, the rolling window) and the fetch that
writes the answers into the cache; `_fetch_state.json` remembers what was asked when."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from assets.sources.arxiv.client import ArxivResource, FetchedFeed
from assets.sources.arxiv.feeds import FeedScan
from assets.sources.files import write_atomic
from assets.sources.http import stable_slot
from assets.sources.ingest_log import IngestLog, failure_payload

STATE_FILE = "_fetch_state.json"

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


