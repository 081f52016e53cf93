"""The interpreter's thread switch interval, shortened for a cluster in one process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["prompt_thread_switches"]


@contextmanager
def prompt_thread_switches(interval: float = 0.0005) -> Iterator[None]:
    """Hand the GIL to a thread that waits for it within `interval` seconds, not 5 ms.

    The store commits in a worker thread, which needs the GIL between SQLite's steps.
    While the event loop's thread is busy, the worker gets it back only when the
    loop's thread is made to let go, by default 5 ms after it asked: in a
    micro-benchmark a commit of 512 rows took 23 ms instead of 4.5 beside a busy
    thread, and every write waits for its commit. Switches
    happen only while both threads want to run, so a shorter interval costs little.
    Restores the previous interval on exit.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
