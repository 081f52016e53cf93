"""Ask deadlines: one clock timer per distinct timeout instead of one per ask.

Asks with the same timeout expire in the order they were made, so each distinct
timeout keeps a FIFO of pending asks and a single timer for its oldest entry. An
ask costs an append instead of scheduling and cancelling a timer of its own, which
was the largest cost of an ask after the two task switches it needs.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from ._errors import AskTimeout

if TYPE_CHECKING:
    from ._clock import Clock, TimerHandle

__all__ = ["AskTimeouts"]

# Below this many entries a queue is only trimmed from the front; past it, answered
# asks stuck behind an old unanswered one are swept out (amortised O(1) per ask).
_SWEEP_AT = 1024

_Entry = tuple[float, "asyncio.Future[Any]", str, object]


class AskTimeouts:
    """Fails each pending ask's future with `AskTimeout` once its deadline passes."""

    __slots__ = ("_clock", "_now", "_queues")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._now = clock.now
        self._queues: dict[float, _DeadlineQueue] = {}

    def add(
        self, future: asyncio.Future[Any], target: str, message: object, timeout: float
    ) -> None:
        """Expire `future` after `timeout` seconds unless it is done by then."""
        # Runs once per ask: the queue's bookkeeping is inlined here on purpose.
        queue = self._queues.get(timeout)
        if queue is None:
            queue = self._queues[timeout] = _DeadlineQueue(self._clock, timeout, self._queues)
        entries = queue.entries
        # Answers mostly come in order, so trimming the front keeps the queue short.
        while entries and entries[0][1].done():
            entries.popleft()
        if len(entries) >= queue.sweep_at:
            entries = queue.sweep()
        entries.append((self._now() + timeout, future, target, message))
        if queue.timer is None:
            queue.timer = self._clock.call_later(timeout, queue.expire)

    def __len__(self) -> int:
        """How many asks are tracked (answered ones may linger until swept)."""
        return sum(len(queue.entries) for queue in self._queues.values())

    @property
    def distinct_timeouts(self) -> int:
        """How many timeout values have asks pending; each has one timer."""
        return len(self._queues)


class _DeadlineQueue:
    """The pending asks of one timeout value, oldest first, and the timer for the oldest."""

    __slots__ = ("_clock", "_owner", "_timeout", "entries", "sweep_at", "timer")

    def __init__(self, clock: Clock, timeout: float, owner: dict[float, _DeadlineQueue]) -> None:
        self._clock = clock
        self._owner = owner
        self._timeout = timeout
        self.timer: TimerHandle | None = None
        self.sweep_at = _SWEEP_AT
        self.entries: deque[_Entry] = deque()

    def sweep(self) -> deque[_Entry]:
        """Drop every answered entry, wherever it is; returns the new queue."""
        self.entries = deque(entry for entry in self.entries if not entry[1].done())
        self.sweep_at = max(_SWEEP_AT, 2 * len(self.entries))
        return self.entries

    def expire(self) -> None:
        self.timer = None
        now = self._clock.now()
        entries = self.entries
        while entries:
            deadline, future, target, message = entries[0]
            if not future.done():
                if deadline > now:
                    break
                future.set_exception(AskTimeout(target, message, self._timeout))
            entries.popleft()
        if entries:
            self.timer = self._clock.call_later(entries[0][0] - now, self.expire)
        elif self._owner.get(self._timeout) is self:
            # Forget an idle timeout value: callers that compute their timeouts would
            # otherwise leave one queue behind per value they ever used.
            del self._owner[self._timeout]
