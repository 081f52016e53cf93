"""Garbage collection tuned for a large cluster in one process."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["relaxed_gc"]


@contextmanager
def relaxed_gc(first_generation: int = 50_000) -> Iterator[None]:
    """Collect the youngest generation every `first_generation` allocations, not 700.

    A cluster in one process holds millions of long-lived objects (every pod, node and
    cached event) and allocates many short-lived ones per message; with Python's
    default thresholds the collector rescans the old ones so often that it takes a
    large share of a run. Restores the previous thresholds on exit.
    """
    before = gc.get_threshold()
    gc.set_threshold(first_generation, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
