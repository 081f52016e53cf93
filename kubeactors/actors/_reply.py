"""The answer channel of an `ask` (`Reply`) and the replies derived from it.

Compiled by mypyc: every write's answer passes through a reply, and the API server's
and the store's replies are native subclasses. `Reply` still takes subclasses in
plain Python (users' and tests' own replies).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from .._mypyc import mypyc_attr
from ._errors import AskTimeout

if TYPE_CHECKING:
    from ._deadletters import DeadLetters

__all__ = ["CallbackReply", "Reply", "release"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")


@mypyc_attr(allow_interpreted_subclasses=True)
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
        release(answer)

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


@mypyc_attr(allow_interpreted_subclasses=True)
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


def release(answer: object) -> None:
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
