"""Parsing that holds the GIL (YAML, Markdown, XML walked in Python), spread over worker processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

# Processes parsing at once on a first run or after a parser change (each holds one batch in memory).
PARSERS = min(4, os.cpu_count() or 1)

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_batches(parse: Callable[[list[Item]], Result], items: Sequence[Item], batch: int,
                workers: int | None = None) -> list[Result]:
    """`parse` over consecutive batches of `batch` items, in `workers` processes (default
    PARSERS), the results in the order of the batches. Fewer items than two batches, or fewer than
    two workers, are parsed here in one call. `parse` must be a module-level function (the workers
    import it), or a partial of one, whose items and result pickle. Workers start with `spawn`: the
    parent holds DuckDB and Dagster threads that a forked child would inherit mid-state."""
    workers = PARSERS if workers is None else workers
    if workers < 2 or len(items) < 2 * batch:
        return [parse(list(items))]
    batches = [list(items[start:start + batch]) for start in range(0, len(items), batch)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(parse, batches))
