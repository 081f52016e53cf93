"""The store without a database (path `":memory:"`), for simulations.

A simulated cluster on a virtual clock never outlives its process, so writing every
revision to SQLite buys it nothing and costs most of a heartbeat's write. With the
path `":memory:"` the store keeps what it already keeps in memory (the live keys and
the recent history window) and nothing else: a commit costs no I/O, and history that
drops out of the window is compacted, as etcd compacts, so a read or watch from
before the window gets `CompactedError`. Every write still takes its own revision
and reaches every watcher. Nothing survives the store actor: a restarted store
starts empty.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from ._db import Database, Recovered, Row
from ._index import KeyIndex
from ._keys import in_range
from ._types import Event, KeyValue

__all__ = ["MEMORY", "Log", "MemoryLog"]

MEMORY = ":memory:"
"""The store path that keeps everything in memory (`StoreActor(MEMORY)`)."""


class MemoryLog:
    """Answers as `Database` does, from the store's own index and history window.

    Reads of the past are served only within the window (the store compacts below
    it), so every revision they ask for has its later events at hand: a historical
    range is the committed state with those events undone.
    """

    def __init__(self, index: KeyIndex, history: deque[tuple[int, list[Event]]]) -> None:
        self._index = index
        self._history = history

    async def recover(self) -> Recovered:
        return Recovered()

    async def close(self) -> None:
        pass

    async def checkpoint(self) -> None:
        pass

    async def write(
        self,
        rows: Sequence[Row],
        leases_granted: Iterable[tuple[int, int]],
        leases_removed: Iterable[int],
        meta: dict[str, int],
    ) -> None:
        pass

    async def compact_step(self, compact_revision: int, first: int, last: int) -> None:
        pass

    async def range_at(self, start: bytes, end: bytes | None, revision: int) -> list[KeyValue]:
        """The live keys in the range as of `revision`: the committed ones, with every
        later event in the window undone, newest first."""
        state = {kv.key: kv for kv in self._index.committed_range(start, end)}
        for event_revision, events in reversed(self._history):
            if event_revision <= revision:
                break
            for event in reversed(events):
                key = event.kv.key
                if not in_range(key, start, end):
                    continue
                if event.prev_kv is None:
                    state.pop(key, None)
                else:
                    state[key] = event.prev_kv
        return [state[key] for key in sorted(state)]

    async def events(
        self,
        start: bytes,
        end: bytes | None,
        first: int,
        last: int,
        limit: int,
        with_prev: bool,
    ) -> list[Event]:
        """The changes in the key range at revisions `first..last`, oldest first, at
        most `limit`, from the window."""
        found: list[Event] = []
        for revision, events in self._history:
            if revision < first:
                continue
            if revision > last:
                break
            for event in events:
                if in_range(event.kv.key, start, end):
                    found.append(event if with_prev else Event(event.type, event.kv))
                    if len(found) >= limit:
                        return found
        return found


Log = Database | MemoryLog
"""Where the store's history goes: SQLite, or nowhere (`MemoryLog`)."""
