"""Handles to actors (`ActorRef`) and to pending answers (`Reply`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from ._errors import ActorStopped, AskTimeout

if TYPE_CHECKING:
    from ._cell import ActorCell
    from ._deadletters import DeadLetters
    from ._stats import ActorStats

__all__ = ["ActorRef", "CallbackReply", "Reply"]

logger = logging.getLogger(__name__)

M = TypeVar("M")
T = TypeVar("T")
U = TypeVar("U")


class Reply(Generic[T]):
    """The answer channel of one `ask`: complete it once with `send` or `fail`.

    A reply can travel inside messages to other actors, so an actor that forwards
    work does not wait for it: whoever finishes the work answers the original caller.
    An answer that comes after the asker gave up goes to the dead letters, and is
    closed if it has a `close()` (a watch, say): nobody else could ever close it.
    """

    __slots__ = ("_dead_letters", "_future", "_target")

    def __init__(self, future: asyncio.Future[T], target: str, dead_letters: DeadLetters) -> None:
        self._future = future
        self._target = target
        self._dead_letters = dead_letters

    @property
    def done(self) -> bool:
        return self._future.done()

    def send(self, value: T) -> None:
        if self._future.done():
            self._undeliverable(value)
            return
        self._future.set_result(value)

    def fail(self, error: BaseException) -> None:
        if self._future.done():
            self._undeliverable(error)
            return
        self._future.set_exception(error)

    def _undeliverable(self, answer: object) -> None:
        future = self._future
        if future.cancelled():
            reason = "asker gave up"
        elif isinstance(future.exception(), AskTimeout):
            reason = "reply after timeout"
        else:
            reason = "already answered"
        self._dead_letters.publish(f"asker of {self._target}", answer, reason)
        _release(answer)

    def map(self, transform: Callable[[U], T]) -> Reply[U]:
        """A reply that answers this one with `transform(value)`: for forwarding actors."""
        return _ForwardingReply(self, transform, None)

    def forward(
        self,
        on_value: Callable[[U], T],
        on_error: Callable[[BaseException], BaseException | None],
    ) -> Reply[U]:
        """Like `map`, and the downstream's errors go through `on_error` first.

        `on_error` returns the error to give this reply's asker, or None when it has
        taken the request over (to retry it, say) and will complete this reply itself.
        If `on_value` raises, the asker gets that error.
        """
        return _ForwardingReply(self, on_value, on_error)


class _ForwardingReply(Reply[U]):
    """Completes an upstream reply with a transformed value or a translated error."""

    __slots__ = ("_on_error", "_transform", "_upstream")

    def __init__(
        self,
        upstream: Reply[T],
        transform: Callable[[U], T],
        on_error: Callable[[BaseException], BaseException | None] | None,
    ) -> None:
        self._upstream = upstream
        self._transform = transform
        self._on_error = on_error

    @property
    def done(self) -> bool:
        return self._upstream.done

    def send(self, value: U) -> None:
        try:
            result = self._transform(value)
        except Exception as error:
            self._upstream.fail(error)
            return
        self._upstream.send(result)

    def fail(self, error: BaseException) -> None:
        if self._on_error is not None:
            translated = self._on_error(error)
            if translated is None:
                return
            error = translated
        self._upstream.fail(error)


class CallbackReply(Reply[T]):
    """A reply that calls a function instead of completing an asker's future.

    For requests sent without waiting for the answer (`tell` with a reply field):
    `on_value(value)` or `on_error(error)` runs once, in the task that answers, so it
    must be quick and must not block; typically it tells an actor. An exception it
    raises is logged, not passed to the answering actor, and a second answer is
    logged and dropped.
    """

    __slots__ = ("_completed", "_on_error", "_on_value")

    def __init__(
        self, on_value: Callable[[T], object], on_error: Callable[[BaseException], object]
    ) -> None:
        self._on_value = on_value
        self._on_error = on_error
        self._completed = False

    @property
    def done(self) -> bool:
        return self._completed

    def send(self, value: T) -> None:
        if self._begin(value):
            try:
                self._on_value(value)
            except Exception:
                logger.exception("a reply callback raised")

    def fail(self, error: BaseException) -> None:
        if self._begin(error):
            try:
                self._on_error(error)
            except Exception:
                logger.exception("a reply error callback raised")

    def _begin(self, answer: object) -> bool:
        if self._completed:
            logger.warning("a callback reply was answered twice; dropped %r", answer)
            return False
        self._completed = True
        return True


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
                _release(future.result())
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


def _release(answer: object) -> None:
    """Close an answer that no asker will ever hold, if it can be closed.

    A watch answered to an asker that has gone would otherwise keep taking in every
    event of its range, for nobody, until it overflowed.
    """
    close = getattr(answer, "close", None)
    if callable(close):
        try:
            close()
        except Exception:
            # The answering actor only sent a reply: a failing close is not its crash.
            logger.exception("closing an undeliverable answer failed")
