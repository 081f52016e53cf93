"""A bounded FIFO mailbox with a non-blocking fast path and batched draining."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Mailbox"]

M = TypeVar("M")


class Mailbox(Generic[M]):
    """A bounded queue between many senders and one actor.

    `try_put` appends without yielding while there is room, which is what makes `tell`
    cheap; a full mailbox parks senders (backpressure) until the actor drains it. The
    actor side takes whatever is queued in one go instead of one wake-up per message.
    """

    __slots__ = ("_getter", "capacity", "closed", "max_depth", "queued", "waiting_senders")

    def __init__(self, capacity: object) -> None:
        # Checked here, not by an `int` annotation: the compiled build would refuse a
        # non-integer with a TypeError of its own, the interpreted one not at all.
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"mailbox capacity must be an integer of at least 1, got {capacity!r}")
        self.capacity: int = capacity
        self.closed = False
        self.max_depth = 0
        self.queued: deque[M] = deque()
        """The messages waiting, oldest first. Take with `popleft`, or pop directly and
        then call `wake_sender` when `waiting_senders` is not empty (the actor loop)."""
        self._getter: asyncio.Future[None] | None = None
        self.waiting_senders: deque[asyncio.Future[None]] = deque()
        """Senders parked on a full mailbox; `wake_sender` lets the oldest retry."""

    def __len__(self) -> int:
        return len(self.queued)

    def try_put(self, item: M) -> bool:
        """Append `item` if there is room; never yields."""
        queued = self.queued
        depth = len(queued)
        if depth >= self.capacity:
            return False
        queued.append(item)
        if depth >= self.max_depth:
            self.max_depth = depth + 1
        getter = self._getter
        if getter is not None:
            self._getter = None
            if not getter.done():
                getter.set_result(None)
        return True

    async def wait_for_room(self) -> None:
        """Park until a slot frees up or the mailbox closes."""
        waiter: asyncio.Future[None] = asyncio.Future(loop=asyncio.get_running_loop())
        self.waiting_senders.append(waiter)
        try:
            await waiter
        except BaseException:
            # A cancelled sender passes its wake-up on so no other sender is stranded.
            if waiter.done() and not waiter.cancelled():
                self.wake_sender()
            else:
                with contextlib.suppress(ValueError):
                    self.waiting_senders.remove(waiter)
            raise

    async def wait_for_items(self) -> None:
        """Park the actor until a message arrives (or `wake` is called)."""
        if self.queued:
            return
        getter: asyncio.Future[None] = asyncio.Future(loop=asyncio.get_running_loop())
        self._getter = getter
        try:
            await getter
        finally:
            if self._getter is getter:
                self._getter = None

    def arrival(self) -> asyncio.Future[None]:
        """A future that completes when a message arrives or `wake` is called.

        The actor's loop awaits it directly: one future per idle spell and no
        coroutine around it, since an idle actor waits once per message it is asked.
        """
        getter: asyncio.Future[None] = asyncio.Future(loop=asyncio.get_running_loop())
        if self.queued:
            getter.set_result(None)
        else:
            self._getter = getter
        return getter

    def wake(self) -> None:
        """Release the actor from `wait_for_items`, e.g. to let it notice a stop request."""
        getter = self._getter
        if getter is not None:
            self._getter = None
            if not getter.done():
                getter.set_result(None)

    def popleft(self) -> M:
        """Take the oldest message, letting one parked sender retry."""
        item = self.queued.popleft()
        if self.waiting_senders:
            self.wake_sender()
        return item

    def has_items(self) -> bool:
        return bool(self.queued)

    def wake_sender(self) -> None:
        """Let the oldest parked sender retry its put (call after taking a message)."""
        while self.waiting_senders:
            waiter = self.waiting_senders.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self, on_leftover: Callable[[M], None]) -> None:
        """Refuse further messages, hand every queued one to `on_leftover`, free senders."""
        self.closed = True
        while self.queued:
            on_leftover(self.queued.popleft())
        while self.waiting_senders:
            waiter = self.waiting_senders.popleft()
            if not waiter.done():
                waiter.set_result(None)
        self.wake()

    def reopen(self) -> None:
        self.closed = False
