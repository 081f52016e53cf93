"""Waking many waiting watch consumers from one event-loop callback instead of one each.

A write seen by thousands of watchers wakes thousands of tasks. Through
`Future.set_result` each wake-up is a loop callback of its own (a `Handle` made by
the loop's Python code, a pass through its ready queue), which in CPython costs
more than the watcher's own work. A `Wakeup` is a reusable future-like object: it
speaks the protocol asyncio's tasks use for awaitables that are not `Future`s
(`_asyncio_future_blocking`, `add_done_callback`, `result`, `cancel`), so the
waiting task hands it its resume step; a `Waker` then runs the steps of every task
woken in one loop pass from a single callback, in the order they were woken.

Two choices keep Python calls off each wait: a `Wakeup` has no `get_loop`, so a
task reads its `_loop` attribute instead of calling it (the protocol allows either),
and a woken task is resumed with a `Future` that is already done, whose result
asyncio's C task reads directly, rather than with the `Wakeup`, whose `result` it
would call. Only a cancelled wait is resumed with its `Wakeup`, which raises.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Generator
from typing import Any

__all__ = ["Waker", "Wakeup"]

# What a task hands `add_done_callback`: it takes the future to read the result of.
_Step = Callable[["Wakeup | asyncio.Future[None]"], object]


class Waker:
    """Resumes the woken tasks of one event loop, a batch per loop callback."""

    __slots__ = ("_done", "_loop", "_woken")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._woken: list[Wakeup] = []
        self._done: asyncio.Future[None] = loop.create_future()
        self._done.set_result(None)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def _run(self) -> None:
        woken, self._woken = self._woken, []
        finished = self._done
        done = 0
        try:
            for wakeup in woken:
                done += 1
                # Resumed here rather than by a method of the wakeup: this loop runs
                # once per woken watcher, and a call is a good part of its cost.
                step, context = wakeup._step, wakeup._context
                wakeup._step = wakeup._context = None
                wakeup._woken = False
                if step is None:
                    continue  # resumed meanwhile by a cancellation
                if context is None:
                    step(finished)
                else:
                    context.run(step, finished)
        finally:
            # A step can raise only what escapes a task (KeyboardInterrupt,
            # SystemExit): let it out, but resume the others on the next pass.
            rest = woken[done:]
            if rest:
                if not self._woken:
                    self._loop.call_soon(self._run)
                self._woken[:0] = rest


class Wakeup:
    """What one consumer awaits until it is woken; reused for every wait.

    Only a task of the waker's loop may await it, one task at a time. Cancelling
    the waiting task resumes it at once with `CancelledError`.
    """

    __slots__ = (
        "_asyncio_future_blocking",
        "_cancel_message",
        "_cancelled",
        "_context",
        "_loop",
        "_step",
        "_waker",
        "_woken",
        "_yield",
    )

    def __init__(self, waker: Waker) -> None:
        self._waker = waker
        self._loop = waker.loop
        self._asyncio_future_blocking = False
        self._step: _Step | None = None
        self._context: contextvars.Context | None = None
        self._woken = False
        self._cancelled = False
        self._cancel_message: Any | None = None
        self._yield = (self,)

    def __await__(self) -> Generator[Any, None, None]:
        if self._step is not None:
            raise RuntimeError("another task is already waiting on this watch")
        self._asyncio_future_blocking = True
        # The task gets this object, hands it its step (add_done_callback) and
        # suspends; resumed, it finds this iterator exhausted. A tuple's iterator,
        # not a generator: nothing but it to make per wait.
        return iter(self._yield)  # type: ignore[return-value]

    def wake(self) -> None:
        """Resume the waiting task, if any, on the waker's next batch."""
        if self._step is not None and not self._woken:
            self._woken = True
            waker = self._waker
            woken = waker._woken
            if not woken:
                self._loop.call_soon(waker._run)
            woken.append(self)

    # The future protocol in which an asyncio task speaks to what it awaits.

    def add_done_callback(self, step: _Step, *, context: contextvars.Context | None = None) -> None:
        self._step = step
        self._context = context

    def remove_done_callback(self, step: _Step) -> int:
        if self._step is None or self._step != step:
            return 0
        self._step = self._context = None
        return 1

    def done(self) -> bool:
        return self._step is None

    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self, msg: Any | None = None) -> bool:
        step = self._step
        if step is None or self._woken:
            return False  # being woken: the task sees its cancellation when it runs
        self._step = None
        self._cancelled = True
        # The message travels with the error, as from a Future: anyio's cancel
        # scopes recognise their own cancellation by it.
        self._cancel_message = msg
        self._loop.call_soon(step, self, context=self._context)
        self._context = None
        return True

    def result(self) -> None:
        if self._cancelled:
            message, self._cancel_message = self._cancel_message, None
            self._cancelled = False
            raise asyncio.CancelledError() if message is None else asyncio.CancelledError(message)
