"""The in-memory key index: the latest version of every live key, committed or not.

Reads outside a transaction must see only committed writes (a crash could undo the
rest), while transactions must see everything applied before them. The index keeps
the committed state as a dict plus a sorted key list, and the writes not yet
committed as up to two overlay layers: the one being committed and the one filling.
A third dict holds the latest version of every live key, committed or not, so that
the check before each write is one lookup, not one per layer.

The sorted key list is brought up to date lazily, when a range is read: inserting
each new key where it belongs moves the whole tail of the list, which made a store
of 60,000 pods spend ~30 us per created key on the move alone (a py-spy profile),
while ranges are read far less often than keys come and go.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from ._types import KeyValue

__all__ = ["KeyIndex"]


class KeyIndex:
    def __init__(self) -> None:
        self._committed: dict[bytes, KeyValue] = {}
        # The committed keys are `_keys` (sorted) plus `_fresh` (not yet merged in)
        # minus `_gone` (deleted, not yet taken out); `_keys` and `_fresh` are disjoint.
        self._keys: list[bytes] = []
        self._fresh: list[bytes] = []
        self._gone: set[bytes] = set()
        self._layers: list[dict[bytes, KeyValue | None]] = [{}]
        # The committed state overlaid with every layer, oldest first: one dict for
        # the index's life, so that `latest` can be its own lookup.
        self._latest: dict[bytes, KeyValue] = {}
        # The latest version of a key, committed or not (None: no such key), for
        # transactions and the check before each write: the dict's `get`, so that a
        # put finds it without a Python call.
        self.latest: Callable[[bytes], KeyValue | None] = self._latest.get

    def __len__(self) -> int:
        return len(self._committed)

    def load(self, kvs: list[KeyValue]) -> None:
        """Fill the committed state from recovery (any order)."""
        self._committed = {kv.key: kv for kv in kvs}
        self._keys = sorted(self._committed)
        self._fresh = []
        self._gone = set()
        self._layers = [{}]
        self._reset_latest()

    def _reset_latest(self) -> None:
        self._latest.clear()
        self._latest.update(self._committed)

    # Reads of the latest state (transactions).

    def latest_range(self, start: bytes, end: bytes | None) -> list[KeyValue]:
        if end is None:
            found = self.latest(start)
            return [found] if found is not None else []
        overlaid: dict[bytes, KeyValue | None] = {}
        for layer in self._layers:
            for key, kv in layer.items():
                if _in(key, start, end):
                    overlaid[key] = kv
        if not overlaid:
            return self.committed_range(start, end)
        merged = {kv.key: kv for kv in self.committed_range(start, end)}
        for key, kv in overlaid.items():
            if kv is None:
                merged.pop(key, None)
            else:
                merged[key] = kv
        return [merged[key] for key in sorted(merged)]

    # Reads of the committed state.

    def get(self, key: bytes) -> KeyValue | None:
        return self._committed.get(key)

    def committed_range(self, start: bytes, end: bytes | None) -> list[KeyValue]:
        if end is None:
            found = self._committed.get(start)
            return [found] if found is not None else []
        keys = self._sorted_keys()
        lo = bisect.bisect_left(keys, start)
        hi = len(keys) if end == b"\0" else bisect.bisect_left(keys, end, lo)
        committed = self._committed
        return [committed[key] for key in keys[lo:hi]]

    def committed_count(self, start: bytes, end: bytes | None) -> int:
        if end is None:
            return 1 if start in self._committed else 0
        keys = self._sorted_keys()
        lo = bisect.bisect_left(keys, start)
        hi = len(keys) if end == b"\0" else bisect.bisect_left(keys, end, lo)
        return max(hi - lo, 0)

    # Writes.

    def write(self, key: bytes, kv: KeyValue | None) -> None:
        """Record the new latest version of `key` (None: deleted), not yet committed."""
        self._layers[-1][key] = kv
        if kv is None:
            self._latest.pop(key, None)
        else:
            self._latest[key] = kv

    def seal(self) -> None:
        """Start committing the filling layer; later writes go to a fresh one."""
        self._layers.append({})

    def commit_oldest(self) -> None:
        """The oldest sealed layer is durable: fold it into the committed state."""
        layer = self._layers.pop(0)
        committed = self._committed
        fresh = self._fresh
        gone = self._gone
        for key, kv in layer.items():
            if kv is None:
                if committed.pop(key, None) is not None:
                    gone.add(key)
            else:
                if key not in committed:
                    if key in gone:
                        gone.discard(key)  # still listed in `_keys` or `_fresh`
                    else:
                        fresh.append(key)
                committed[key] = kv
        if not self._layers:
            self._layers.append({})

    def _sorted_keys(self) -> list[bytes]:
        """The committed keys in order, merging the pending additions and removals."""
        keys = self._keys
        gone = self._gone
        if gone:
            if len(gone) <= _ONE_BY_ONE:
                for key in gone:
                    at = bisect.bisect_left(keys, key)
                    if at < len(keys) and keys[at] == key:
                        del keys[at]
                    else:
                        self._fresh.remove(key)
            else:
                keys[:] = [key for key in keys if key not in gone]
                self._fresh = [key for key in self._fresh if key not in gone]
            gone.clear()
        fresh = self._fresh
        if fresh:
            if len(fresh) <= _ONE_BY_ONE:
                for key in fresh:
                    if not keys or key > keys[-1]:
                        keys.append(key)
                    else:
                        bisect.insort(keys, key)
            else:
                # Sorting finds the long sorted run and merges the new keys into it.
                keys.extend(fresh)
                keys.sort()
            fresh.clear()
        return keys

    def discard_uncommitted(self) -> None:
        """Forget every write not yet committed (their transaction failed)."""
        self._layers = [{}]
        self._reset_latest()


# Up to this many pending keys are placed one by one (each a move of the list's
# tail); more are merged by one sort, which costs a pass over the whole list.
_ONE_BY_ONE = 32


def _in(key: bytes, start: bytes, end: bytes) -> bool:
    if end == b"\0":
        return key >= start
    return start <= key < end
