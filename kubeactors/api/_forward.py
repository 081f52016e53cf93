"""Replies that complete a caller's request from a downstream answer, transformed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..actors import Reply

__all__ = ["forward"]

T = TypeVar("T")
U = TypeVar("U")


class _Forward(Reply[U]):
    """Like `Reply.map`, and also translates the downstream's errors for the caller."""

    __slots__ = ("_on_error", "_on_value", "_upstream")

    def __init__(
        self,
        upstream: Reply[T],
        on_value: Callable[[U], T],
        on_error: Callable[[BaseException], BaseException | None],
    ) -> None:
        self._upstream = upstream
        self._on_value = on_value
        self._on_error = on_error

    @property
    def done(self) -> bool:
        return self._upstream.done

    def send(self, value: U) -> None:
        try:
            result = self._on_value(value)
        except Exception as error:
            self._upstream.fail(error)
            return
        self._upstream.send(result)

    def fail(self, error: BaseException) -> None:
        translated = self._on_error(error)
        if translated is not None:
            self._upstream.fail(translated)


def forward(
    upstream: Reply[T],
    on_value: Callable[[U], T],
    on_error: Callable[[BaseException], BaseException | None],
) -> Reply[U]:
    """A reply for a downstream actor whose answer (or error) completes `upstream`.

    `on_error` translates an error for the caller, or returns None when it has
    taken the request over (to retry it, say) and will complete `upstream` itself.
    """
    return _Forward(upstream, on_value, on_error)
