"""A `Reply` that calls a function, for requests sent without waiting for the answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from ..actors import Reply

__all__ = ["Callback", "callback_reply"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

Callback = Callable[[T | None, BaseException | None], None]
"""Called once with `(result, None)` or `(None, error)`."""


class _CallbackReply(Reply[T]):
    __slots__ = ("_callback", "_completed")

    def __init__(self, callback: Callback[T]) -> None:
        self._callback = callback
        self._completed = False

    @property
    def done(self) -> bool:
        return self._completed

    def send(self, value: T) -> None:
        self._complete(value, None)

    def fail(self, error: BaseException) -> None:
        self._complete(None, error)

    def _complete(self, value: T | None, error: BaseException | None) -> None:
        if self._completed:
            logger.warning("a callback reply was completed twice; the second answer is dropped")
            return
        self._completed = True
        try:
            self._callback(value, error)
        except Exception:
            # The callback runs in the task of whoever answered (the store, say): its
            # bugs must not crash that actor.
            logger.exception("a reply callback raised")


def callback_reply(callback: Callback[T]) -> Reply[T]:
    """A reply that calls `callback(result, error)` in the task that completes it.

    The callback must be quick and must not block: typically it tells an actor.
    """
    return _CallbackReply(callback)
