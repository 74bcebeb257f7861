"""Clients of the upstream sources: the Hugging Face Hub and the arXiv API."""

import hashlib


def stable_slot(key: str, days: int) -> int:
    """The night (0..days-1 of a `days`-night cycle) on which a known item (a paper, a model) is
    re-checked although nothing says it changed: the same night every cycle, spread evenly."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % max(days, 1)
