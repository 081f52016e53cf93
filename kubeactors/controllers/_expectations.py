"""Expectations: the creations and deletions a controller has asked for but not yet seen.

While a controller waits to see its own writes come back through its cache, a sync
from that cache would count stale numbers and act twice. Upstream's answer, kept
here: record what was asked, lower the count as the informer reports each pod, and
reconcile a key only once its count is zero (or the record is so old that a lost
event must be assumed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..actors import Clock

__all__ = ["EXPECTATIONS_TIMEOUT", "Expectations"]

EXPECTATIONS_TIMEOUT = 300.0
"""Seconds after which unmet expectations are assumed lost (upstream: 5 minutes)."""


@dataclass
class _Record:
    adds: int
    deletes: int
    set_at: float
    deleting: set[str] = field(default_factory=set)


class Expectations:
    def __init__(self, clock: Clock, timeout: float = EXPECTATIONS_TIMEOUT) -> None:
        self._clock = clock
        self._timeout = timeout
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        """True when `key` has nothing outstanding, no record, or an expired record."""
        record = self._records.get(key)
        if record is None:
            return True
        if record.adds <= 0 and record.deletes <= 0:
            return True
        return self._clock.now() - record.set_at > self._timeout

    def expect_creations(self, key: str, count: int) -> None:
        self._records[key] = _Record(count, 0, self._clock.now())

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._records[key] = _Record(0, len(pod_keys), self._clock.now(), set(pod_keys))

    def creation_observed(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        record = self._records.get(key)
        if record is not None and pod_key in record.deleting:
            record.deleting.discard(pod_key)
            record.deletes -= 1

    def forget(self, key: str) -> None:
        self._records.pop(key, None)

    def outstanding(self, key: str) -> tuple[int, int]:
        """(creations, deletions) still expected for `key`."""
        record = self._records.get(key)
        return (0, 0) if record is None else (max(0, record.adds), max(0, record.deletes))
