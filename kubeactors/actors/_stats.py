"""`ActorStats`: an actor's counters, as `ActorRef.stats` reports them.

Its own module, interpreted: compiled (mypyc), a msgspec Struct loses its class
keywords (`frozen=True`), and the cell that fills it in is compiled.
"""

from __future__ import annotations

import msgspec

__all__ = ["ActorStats"]


class ActorStats(msgspec.Struct, frozen=True):
    """Counters of one actor, across its restarts."""

    handled: int
    depth: int
    max_depth: int
    busy_seconds: float
    restarts: int
