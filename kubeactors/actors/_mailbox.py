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

    __slots__ = ("_getter", "_items", "_putters", "capacity", "closed", "max_depth")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"mailbox capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.closed = False
        self.max_depth = 0
        self._items: deque[M] = deque()
        self._getter: asyncio.Future[None] | None = None
        self._putters: deque[asyncio.Future[None]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def try_put(self, item: M) -> bool:
        """Append `item` if there is room; never yields."""
        items = self._items
        if len(items) >= self.capacity:
            return False
        items.append(item)
        if len(items) > self.max_depth:
            self.max_depth = len(items)
        getter = self._getter
        if getter is not None:
            self._getter = None
            if not getter.done():
                getter.set_result(None)
        return True

    async def wait_for_room(self) -> None:
        """Park until a slot frees up or the mailbox closes."""
        waiter = asyncio.get_running_loop().create_future()
        self._putters.append(waiter)
        try:
            await waiter
        except BaseException:
            # A cancelled sender passes its wake-up on so no other sender is stranded.
            if waiter.done() and not waiter.cancelled():
                self._wake_putter()
            else:
                with contextlib.suppress(ValueError):
                    self._putters.remove(waiter)
            raise

    async def wait_for_items(self) -> None:
        """Park the actor until a message arrives (or `wake` is called)."""
        if self._items:
            return
        getter = asyncio.get_running_loop().create_future()
        self._getter = getter
        try:
            await getter
        finally:
            if self._getter is getter:
                self._getter = None

    def wake(self) -> None:
        """Release the actor from `wait_for_items`, e.g. to let it notice a stop request."""
        getter = self._getter
        if getter is not None:
            self._getter = None
            if not getter.done():
                getter.set_result(None)

    def popleft(self) -> M:
        item = self._items.popleft()
        if self._putters:
            self._wake_putter()
        return item

    def has_items(self) -> bool:
        return bool(self._items)

    def _wake_putter(self) -> None:
        while self._putters:
            waiter = self._putters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self, on_leftover: Callable[[M], None]) -> None:
        """Refuse further messages, hand every queued one to `on_leftover`, free senders."""
        self.closed = True
        while self._items:
            on_leftover(self._items.popleft())
        while self._putters:
            waiter = self._putters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        self.wake()

    def reopen(self) -> None:
        self.closed = False
