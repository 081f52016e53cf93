"""`OrderedTimer`: the virtual clock's timer, which breaks ties by the order of setting.

Its own module so that the clock's module can be compiled (mypyc): mypyc refuses
`__slots__` on a compiled subclass of an interpreted class (`asyncio.TimerHandle`),
and a timer is made for every `call_later` and sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import Context
from typing import Any

__all__ = ["OrderedTimer"]


class OrderedTimer(asyncio.TimerHandle):
    """A timer that, due at the same instant as another of its kind, fires after it if
    it was set after it."""

    __slots__ = ("_order",)

    def __init__(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        loop: asyncio.AbstractEventLoop,
        context: Context | None,
        order: int,
    ) -> None:
        super().__init__(when, callback, args, loop, context)
        self._order = order

    def __lt__(self, other: asyncio.TimerHandle) -> bool:
        # heapq compares with `<` alone.
        if isinstance(other, OrderedTimer):
            mine: float = self._when  # type: ignore[attr-defined]
            theirs: float = other._when  # type: ignore[attr-defined]
            return mine < theirs or (mine == theirs and self._order < other._order)
        return super().__lt__(other)

    __hash__ = asyncio.TimerHandle.__hash__
