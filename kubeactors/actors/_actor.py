"""The `Actor` base class and the context the runtime gives each incarnation."""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import anyio.abc

if TYPE_CHECKING:
    from ._cell import ActorCell
    from ._clock import Clock, TimerHandle
    from ._ref import ActorRef
    from ._supervisor import Supervisor
    from ._trace import Trace

__all__ = ["Actor", "ActorContext"]

M = TypeVar("M")


class ActorContext(Generic[M]):
    """What an actor may use of the world: its own ref, the clock, its random, timers.

    A context belongs to one incarnation: a restart gets a fresh one, and the timers
    and background tasks started through it end with the incarnation.
    """

    def __init__(
        self,
        cell: ActorCell[M],
        task_group: anyio.abc.TaskGroup,
        rng: random.Random,
    ) -> None:
        self._cell = cell
        self._task_group = task_group
        # The timers not yet fired or cancelled, so that they end with the incarnation.
        # A one-shot timer leaves when it fires, so per-message timers do not pile up.
        self._timers: dict[TimerHandle, None] = {}
        self.random = rng

    @property
    def self(self) -> ActorRef[M]:
        return self._cell.ref

    @property
    def name(self) -> str:
        return self._cell.name

    @property
    def clock(self) -> Clock:
        return self._cell.clock

    @property
    def trace(self) -> Trace:
        """The system's trace: record decisions that must follow from the seed."""
        return self._cell.supervisor.system.trace

    @property
    def supervisor(self) -> Supervisor:
        """The supervisor this actor runs under; spawn siblings through it."""
        return self._cell.supervisor

    def watch(self, ref: ActorRef[Any]) -> None:
        """Be sent `Terminated(ref, reason)` when `ref` stops for good."""
        ref._cell.add_watcher(self._cell.ref)

    def unwatch(self, ref: ActorRef[Any]) -> None:
        ref._cell.remove_watcher(self._cell.ref)

    def stop(self) -> None:
        """Stop after the current message: a normal exit (a permanent actor restarts)."""
        self._cell.request_exit()

    def start_soon(
        self, func: Callable[[], Coroutine[Any, Any, Any]], *, name: str | None = None
    ) -> None:
        """Run a task for the life of this incarnation; if it raises, the actor crashes."""
        self._task_group.start_soon(func, name=name)

    @property
    def pending_timers(self) -> int:
        """How many of this incarnation's timers have yet to fire (or be cancelled)."""
        return len(self._timers)

    def send_later(self, delay: float, message: M) -> TimerHandle:
        """Deliver `message` to this actor after `delay` seconds on the injected clock."""
        timer = _OneShot(self, message)
        timer.handle = self.clock.call_later(delay, timer.fire)
        self._timers[timer] = None
        return timer

    def send_every(self, interval: float, message: M) -> TimerHandle:
        """Deliver `message` every `interval` seconds until the handle is cancelled."""
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        periodic = _Periodic(self, interval, message)
        self._timers[periodic] = None
        return periodic

    def _deliver_timer(self, message: M) -> None:
        if not self._cell.ref.try_tell(message):
            # The mailbox is full: wait for room rather than drop a timer's message.
            self._task_group.start_soon(self._cell.ref.tell, message)

    def _cancel_timers(self) -> None:
        timers = list(self._timers)
        self._timers.clear()
        for handle in timers:
            handle.cancel()


class _OneShot:
    """The timer of one `send_later`: forgets itself once fired or cancelled."""

    __slots__ = ("_context", "_message", "handle")

    def __init__(self, context: ActorContext[Any], message: object) -> None:
        self._context = context
        self._message = message
        self.handle: TimerHandle | None = None

    def fire(self) -> None:
        self._context._timers.pop(self, None)
        self._context._deliver_timer(self._message)

    def cancel(self) -> None:
        self._context._timers.pop(self, None)
        if self.handle is not None:
            self.handle.cancel()


class _Periodic:
    """A repeating timer built from one-shot `call_later`s."""

    def __init__(self, context: ActorContext[Any], interval: float, message: object) -> None:
        self._context = context
        self._interval = interval
        self._message = message
        self._cancelled = False
        self._handle = context.clock.call_later(interval, self._fire)

    def _fire(self) -> None:
        if self._cancelled:
            return
        self._context._deliver_timer(self._message)
        self._handle = self._context.clock.call_later(self._interval, self._fire)

    def cancel(self) -> None:
        self._cancelled = True
        self._context._timers.pop(self, None)
        self._handle.cancel()


class Actor(Generic[M]):
    """Subclass this and implement `receive`.

    The runtime calls `on_start`, then `receive` once per message in mailbox order,
    one at a time, then `on_stop`. A crash anywhere makes the supervisor decide
    between a restart with a fresh instance and giving up.
    """

    mailbox_size: ClassVar[int] = 1024
    """Default capacity of this actor's mailbox; `spawn` may override it."""

    _context: ActorContext[M]

    @property
    def context(self) -> ActorContext[M]:
        return self._context

    async def on_start(self) -> None:
        """Called before the first message of each incarnation."""

    async def receive(self, message: M) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement receive()")

    async def on_stop(self) -> None:
        """Called once the incarnation ends, whether by stop, crash or shutdown."""
