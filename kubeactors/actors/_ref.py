"""Handles to actors (`ActorRef`); the replies to their asks live in `_reply`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from ._errors import ActorStopped
from ._reply import CallbackReply, Reply, release

if TYPE_CHECKING:
    from ._cell import ActorCell
    from ._stats import ActorStats

__all__ = ["ActorRef", "CallbackReply", "Reply"]

M = TypeVar("M")
T = TypeVar("T")


class ActorRef(Generic[M]):
    """The address of an actor; stays valid across restarts of the actor behind it."""

    __slots__ = ("_cell", "name")

    def __init__(self, cell: ActorCell[M]) -> None:
        self._cell = cell
        self.name = cell.name

    def __repr__(self) -> str:
        return f"<ActorRef {self.name}>"

    @property
    def stats(self) -> ActorStats:
        return self._cell.stats()

    @property
    def alive(self) -> bool:
        return not self._cell.mailbox.closed

    async def tell(self, message: M) -> None:
        """Send `message`; waits while the mailbox is full (backpressure)."""
        mailbox = self._cell.mailbox
        while True:
            if mailbox.closed:
                self._cell.dead_letters.publish(self.name, message, "actor stopped")
                return
            if mailbox.try_put(message):
                return
            await mailbox.wait_for_room()

    def try_tell(self, message: M) -> bool:
        """Send `message` if the mailbox has room; False when it is full.

        A message to a stopped actor goes to the dead letters and counts as sent.
        """
        mailbox = self._cell.mailbox
        if mailbox.closed:
            self._cell.dead_letters.publish(self.name, message, "actor stopped")
            return True
        return mailbox.try_put(message)

    async def ask(self, make: Callable[[Reply[T]], M], timeout: float | None = None) -> T:
        """Send the message `make(reply)` builds and wait for its answer.

        Always bounded: `timeout` defaults to the system's ask timeout, and
        `AskTimeout` is raised when it passes, including time spent waiting for room
        in a full mailbox.
        """
        cell = self._cell
        if timeout is None:
            timeout = cell.default_ask_timeout
        elif not timeout > 0:
            raise ValueError(f"ask timeout must be positive, got {timeout}")
        future: asyncio.Future[T] = asyncio.Future(loop=asyncio.get_running_loop())
        reply: Reply[T] = Reply(future, self.name, cell.dead_letters)
        message = make(reply)
        mailbox = cell.mailbox
        if mailbox.closed:
            cell.dead_letters.publish(self.name, message, "actor stopped")
            raise ActorStopped(self.name)
        cell.ask_timeouts.add(future, self.name, message, timeout)
        if not mailbox.try_put(message):
            await self._put_slowly(message, future)
        try:
            return await future
        except BaseException:
            # Cancelled just after the answer came: it is dropped with the asker.
            if future.done() and not future.cancelled() and future.exception() is None:
                release(future.result())
            raise

    async def _put_slowly(self, message: M, future: asyncio.Future[Any]) -> None:
        """Wait for room in a full mailbox, giving up when the ask times out."""
        mailbox = self._cell.mailbox
        try:
            while True:
                await self._wait_for_room_or_timeout(future)
                if mailbox.closed:
                    self._cell.dead_letters.publish(self.name, message, "actor stopped")
                    raise ActorStopped(self.name)
                if mailbox.try_put(message):
                    return
        except BaseException:
            # Nobody will await the future now: settle it so its expiry stays quiet.
            future.cancel()
            raise

    async def _wait_for_room_or_timeout(self, future: asyncio.Future[Any]) -> None:
        with anyio.CancelScope() as scope:

            def give_up(_: asyncio.Future[Any]) -> None:
                scope.cancel()

            future.add_done_callback(give_up)
            try:
                await self._cell.mailbox.wait_for_room()
            finally:
                future.remove_done_callback(give_up)
        if future.done():
            future.result()  # raises AskTimeout

    async def stop(self) -> None:
        """Stop the actor for good (no restart) and wait until it has stopped.

        The message being handled finishes, unless it takes longer than the system's
        `shutdown_timeout`, when it is cancelled (its asker gets `ActorStopped`).
        Messages still queued go to dead letters.
        """
        await self._cell.stop()
