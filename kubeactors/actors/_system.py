"""`ActorSystem`: the root of the tree, which owns the task group everything runs in."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

import anyio
import anyio.abc

from ._actor import Actor
from ._cell import RestartPolicy, unwrap_group
from ._clock import Clock, SystemClock
from ._deadletters import DeadLetters
from ._ref import ActorRef
from ._supervisor import Strategy, Supervisor
from ._timeouts import AskTimeouts
from ._trace import Trace
from ._virtual import VirtualClock

__all__ = ["ActorSystem"]

logger = logging.getLogger(__name__)

M = TypeVar("M")


class ActorSystem:
    """The root supervisor and its task group: `async with ActorSystem() as system:`.

    Leaving the block stops every actor (newest first) and leaves no task behind,
    whether it is left normally, by cancellation or by an error. An actor still busy
    with a message `shutdown_timeout` seconds after it was asked to stop is cancelled. If the root
    supervisor gives up, the block is cancelled and `SupervisorGaveUp` is raised.

    With a `VirtualClock`, the event loop runs on virtual time inside the block.
    With `trace=True`, components' `context.trace.record(...)` calls are kept in
    `system.trace` (see `Trace`).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        ask_timeout: float = 10.0,
        max_restarts: int = 3,
        within: float = 5.0,
        shutdown_timeout: float = 5.0,
        trace: bool | Trace = False,
    ) -> None:
        if not ask_timeout > 0:
            raise ValueError(f"ask_timeout must be positive, got {ask_timeout}")
        if not shutdown_timeout > 0:
            raise ValueError(f"shutdown_timeout must be positive, got {shutdown_timeout}")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.seed = seed
        self.default_ask_timeout = ask_timeout
        self.shutdown_timeout = shutdown_timeout
        self.dead_letters = DeadLetters()
        self.trace: Trace = (
            trace if isinstance(trace, Trace) else Trace(self.clock, enabled=bool(trace))
        )
        """Where components record their decisions; off unless `trace` is given."""
        self.ask_timeouts = AskTimeouts(self.clock)
        self.root = Supervisor(
            "", system=self, strategy=Strategy.ONE_FOR_ONE, max_restarts=max_restarts, within=within
        )
        self._task_group: anyio.abc.TaskGroup | None = None
        self._clock_attachment = contextlib.ExitStack()

    def spawn(
        self,
        factory: Callable[[], Actor[M]],
        *,
        name: str | None = None,
        mailbox_size: int | None = None,
        restart: RestartPolicy = RestartPolicy.PERMANENT,
    ) -> ActorRef[M]:
        """Start an actor under the root supervisor."""
        return self.root.spawn(factory, name=name, mailbox_size=mailbox_size, restart=restart)

    def spawn_supervisor(
        self,
        name: str,
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        within: float = 5.0,
        restart: RestartPolicy = RestartPolicy.PERMANENT,
    ) -> Supervisor:
        return self.root.spawn_supervisor(
            name, strategy=strategy, max_restarts=max_restarts, within=within, restart=restart
        )

    def start_soon(self, func: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        if self._task_group is None:
            raise RuntimeError("the actor system is not running: use `async with ActorSystem()`")
        self._task_group.start_soon(func)

    async def __aenter__(self) -> ActorSystem:
        if isinstance(self.clock, VirtualClock):
            self._clock_attachment.enter_context(self.clock.attach())
        self._task_group = anyio.create_task_group()
        try:
            await self._task_group.__aenter__()
        except BaseException:
            self._clock_attachment.close()
            raise
        self._task_group.start_soon(self._run_root, name="kubeactors-root")
        return self

    async def _run_root(self) -> None:
        try:
            await self.root.run_once()
        except BaseException as error:
            if not isinstance(error, anyio.get_cancelled_exc_class()):
                self.root.terminate(error)
            raise
        self.root.terminate(None)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        task_group = self._task_group
        assert task_group is not None, "ActorSystem exited without being entered"
        try:
            if exc_type is None:
                await self.root.stop()
            task_group.cancel_scope.cancel()
            return await task_group.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as group:
            error = unwrap_group(group)
            raise error from error.__cause__
        finally:
            self._task_group = None
            self.root.terminate(None)
            self._clock_attachment.close()
