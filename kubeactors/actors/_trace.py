"""`Trace`: an ordered record of a run's decisions, so two runs can be compared."""

from __future__ import annotations

import hashlib
from collections import deque
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from ._clock import Clock

__all__ = ["Trace", "TraceField"]

TraceField = str | int | float | bool | None
"""What an event may carry: plain values with one JSON form each."""

_encode = msgspec.json.Encoder().encode


class Trace:
    """Events in the order they happened, each stamped with the clock's time.

    Components record what must follow from the seed: each API write with its key and
    revision, each scheduling decision with its node and scores. On a virtual clock
    the same seed gives the same events, so two runs compare by `digest`, a hash of
    every event ever recorded (the newest `keep` events are also kept as `lines`).
    A disabled trace records nothing and costs one check per call.
    """

    def __init__(self, clock: Clock | None = None, *, enabled: bool = True, keep: int = 10_000):
        if keep < 0:
            raise ValueError(f"keep must not be negative, got {keep}")
        self.enabled = enabled and clock is not None
        self.count = 0
        self.lines: deque[bytes] = deque(maxlen=keep)
        self._clock = clock
        self._hash = hashlib.sha256()

    def record(self, kind: str, *fields: TraceField) -> None:
        """Append the event `kind` with `fields`, at the clock's current time."""
        if not self.enabled:
            return
        assert self._clock is not None
        for field in fields:
            if not isinstance(field, str | int | float | bool | None):
                raise TypeError(
                    f"trace event {kind!r}: a field must be str, int, float, bool or None, "
                    f"got {type(field).__name__}"
                )
        line = _encode([self._clock.now(), kind, *fields])
        self._hash.update(line)
        self._hash.update(b"\n")
        self.count += 1
        self.lines.append(line)

    @property
    def digest(self) -> str:
        """The hash of every event recorded so far, in order (hex SHA-256)."""
        return self._hash.hexdigest()
