"""Supervisors: run children, restart them by strategy, give up past an intensity limit."""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio
import anyio.abc

from ._actor import Actor
from ._cell import ActorCell, Outcome, RestartPolicy, unwrap_group
from ._errors import SupervisorGaveUp

if TYPE_CHECKING:
    from ._clock import Clock
    from ._deadletters import DeadLetters
    from ._ref import ActorRef
    from ._system import ActorSystem
    from ._timeouts import AskTimeouts

__all__ = ["Strategy", "Supervisor"]

logger = logging.getLogger(__name__)

M = TypeVar("M")


class Strategy(enum.Enum):
    """Which children a supervisor restarts when one crashes."""

    ONE_FOR_ONE = "one_for_one"
    """Only the child that crashed."""
    ONE_FOR_ALL = "one_for_all"
    """Every child: for siblings that cannot work without each other."""


class _Child(Protocol):
    name: str
    restart: RestartPolicy

    @property
    def stop_requested(self) -> bool: ...

    @property
    def terminated(self) -> bool: ...

    async def run_once(self) -> Outcome: ...

    def request_restart(self) -> None: ...

    async def stop(self) -> None: ...

    def terminate(self, reason: BaseException | None) -> None: ...


class Supervisor:
    """A node of the supervision tree: owns a task group in which its children run.

    A crashed child is restarted with a fresh instance (its ref and mailbox stay);
    after more than `max_restarts` restarts within `within` seconds the supervisor
    gives up and fails upward to its own supervisor. Children stop in reverse order
    of their start.
    """

    def __init__(
        self,
        name: str,
        *,
        system: ActorSystem,
        parent: Supervisor | None = None,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        within: float = 5.0,
        restart: RestartPolicy = RestartPolicy.PERMANENT,
    ) -> None:
        if max_restarts < 0 or within <= 0:
            raise ValueError("max_restarts must be >= 0 and within must be positive")
        self.name = name
        self.system = system
        self.strategy = strategy
        self.max_restarts = max_restarts
        self.within = within
        self.restart = restart
        self._parent = parent
        # By path, in the order they were started: a name is checked at each spawn,
        # and a node process spawns thousands of kubelets under one supervisor.
        self._children: dict[str, _Child] = {}
        self._running: set[_Child] = set()
        self._task_group: anyio.abc.TaskGroup | None = None
        self._restart_times: deque[float] = deque()
        self._failure: SupervisorGaveUp | None = None
        self._stop_requested = False
        self._restart_requested = False
        self._stopped = anyio.Event()
        self._terminated = anyio.Event()
        self._counter = 0

    def __repr__(self) -> str:
        return f"<Supervisor {self.name or '/'} {self.strategy.value}>"

    # -- what cells read from their supervisor ---------------------------------

    @property
    def clock(self) -> Clock:
        return self.system.clock

    @property
    def dead_letters(self) -> DeadLetters:
        return self.system.dead_letters

    @property
    def ask_timeouts(self) -> AskTimeouts:
        return self.system.ask_timeouts

    @property
    def seed(self) -> int:
        return self.system.seed

    @property
    def default_ask_timeout(self) -> float:
        return self.system.default_ask_timeout

    @property
    def children(self) -> list[str]:
        return list(self._children)

    # -- building the tree -------------------------------------------------------

    def spawn(
        self,
        factory: Callable[[], Actor[M]],
        *,
        name: str | None = None,
        mailbox_size: int | None = None,
        restart: RestartPolicy = RestartPolicy.PERMANENT,
    ) -> ActorRef[M]:
        """Start an actor under this supervisor; `factory` makes each fresh instance."""
        cell = ActorCell(self, factory, self._child_path(name), mailbox_size, restart)
        self._add(cell)
        return cell.ref

    def spawn_supervisor(
        self,
        name: str,
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        within: float = 5.0,
        restart: RestartPolicy = RestartPolicy.PERMANENT,
    ) -> Supervisor:
        """Start a nested supervisor, for a group of actors restarted together."""
        child = Supervisor(
            self._child_path(name),
            system=self.system,
            parent=self,
            strategy=strategy,
            max_restarts=max_restarts,
            within=within,
            restart=restart,
        )
        self._add(child)
        return child

    def start_soon(self, func: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run a helper task under this supervisor (or the system, if it is not running)."""
        if self._task_group is not None:
            self._task_group.start_soon(func)
        else:
            self.system.start_soon(func)

    def _child_path(self, name: str | None) -> str:
        if name is None:
            self._counter += 1
            name = f"actor-{self._counter}"
        if "/" in name or not name:
            raise ValueError(f"invalid actor name {name!r}: must be non-empty without '/'")
        path = f"{self.name}/{name}" if self.name else name
        if path in self._children:
            raise ValueError(f"an actor named {path!r} already runs under this supervisor")
        return path

    def _add(self, child: _Child) -> None:
        if self._terminated.is_set() or self._stop_requested:
            raise RuntimeError(f"supervisor {self.name!r} is stopped")
        self._children[child.name] = child
        if self._task_group is not None:
            self._task_group.start_soon(self._supervise, child)

    # -- running -------------------------------------------------------------------

    async def run_once(self) -> Outcome:
        self._failure = None
        self._restart_requested = False
        # A restarted supervisor starts afresh, with its whole restart budget.
        self._restart_times.clear()
        try:
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                for child in list(self._children.values()):
                    task_group.start_soon(self._supervise, child)
                await self._stopped.wait()
                task_group.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            error = unwrap_group(group)
            raise error from error.__cause__
        finally:
            self._task_group = None
        if self._failure is not None:
            raise self._failure
        if self._stop_requested:
            return Outcome.STOPPED
        if self._restart_requested:
            return Outcome.RESTART
        return Outcome.EXITED

    async def _supervise(self, child: _Child) -> None:
        if child.terminated:
            return  # stopped before it ever ran
        self._running.add(child)
        reason: BaseException | None = None
        try:
            while True:
                try:
                    outcome = await child.run_once()
                except Exception as error:
                    if child.stop_requested:
                        break
                    reason = error
                    logger.error("%s crashed: %r", child.name, error, exc_info=error)
                    if child.restart is RestartPolicy.TEMPORARY:
                        break
                    if not self._allow_restart(error):
                        return
                    if self.strategy is Strategy.ONE_FOR_ALL:
                        for sibling in list(self._children.values()):
                            if sibling is not child:
                                sibling.request_restart()
                    reason = None
                    continue
                if outcome is Outcome.STOPPED:
                    break
                if outcome is Outcome.RESTART:
                    if child.restart is RestartPolicy.TEMPORARY:
                        break  # as in OTP: a temporary child is never restarted
                    continue
                if child.restart is RestartPolicy.PERMANENT:
                    if not self._allow_restart(None):
                        return
                    continue
                break
        finally:
            self._running.discard(child)
        child.terminate(reason)
        self._forget(child)

    def _forget(self, child: _Child) -> None:
        if self._children.get(child.name) is child:
            del self._children[child.name]

    def _allow_restart(self, error: BaseException | None) -> bool:
        now = self.clock.now()
        times = self._restart_times
        times.append(now)
        while times and times[0] < now - self.within:
            times.popleft()
        if len(times) <= self.max_restarts:
            return True
        failure = SupervisorGaveUp(self.name or "/", self.max_restarts, self.within)
        failure.__cause__ = error
        self._failure = failure
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()
        return False

    async def _ensure_finished(self, child: _Child) -> None:
        """Terminate a child directly when no task of ours is running it."""
        if child not in self._running:
            child.terminate(None)
            self._forget(child)

    # -- the child protocol, for a supervisor nested in another ---------------------

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    @property
    def terminated(self) -> bool:
        return self._terminated.is_set()

    def request_restart(self) -> None:
        self._restart_requested = True
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()

    async def stop(self) -> None:
        """Stop every child, newest first, then this supervisor."""
        if self._stop_requested:
            await self._terminated.wait()
            return
        self._stop_requested = True
        for child in reversed(list(self._children.values())):
            await child.stop()
        self._stopped.set()
        if self._parent is not None:
            await self._parent._ensure_finished(self)
        elif self._task_group is None:
            self.terminate(None)
        await self._terminated.wait()

    def terminate(self, reason: BaseException | None) -> None:
        if self._terminated.is_set():
            return
        for child in reversed(list(self._children.values())):
            child.terminate(reason)
        self._children.clear()
        self._terminated.set()
