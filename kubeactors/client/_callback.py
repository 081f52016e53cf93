"""A `Reply` that calls a function, for requests sent without waiting for the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..actors import CallbackReply, Reply

__all__ = ["Callback", "callback_reply"]

T = TypeVar("T")

Callback = Callable[[T | None, BaseException | None], None]
"""Called once with `(result, None)` or `(None, error)`."""


def callback_reply(callback: Callback[T]) -> Reply[T]:
    """A reply that calls `callback(result, error)` in the task that completes it.

    The callback must be quick and must not block: typically it tells an actor.
    """
    return CallbackReply(lambda value: callback(value, None), lambda error: callback(None, error))
