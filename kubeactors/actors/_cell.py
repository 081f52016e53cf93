"""`ActorCell`: the runtime's side of one actor, which outlives each incarnation."""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
import types
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from ._actor import Actor, ActorContext
from ._errors import ActorCrashed, ActorStopped
from ._mailbox import Mailbox
from ._messages import Terminated
from ._ref import ActorRef, Reply
from ._stats import ActorStats

if TYPE_CHECKING:
    from ._clock import Clock
    from ._deadletters import DeadLetters
    from ._supervisor import Supervisor
    from ._timeouts import AskTimeouts

__all__ = ["ActorCell", "ActorStats", "Outcome", "RestartPolicy", "unwrap_group"]

logger = logging.getLogger(__name__)

M = TypeVar("M")

# How many messages an actor handles before it yields to the event loop, so that an
# actor that keeps telling itself cannot starve the others.
_BATCH = 256


class RestartPolicy(enum.Enum):
    """When a supervisor restarts a child (as Erlang/OTP's restart types)."""

    PERMANENT = "permanent"
    """Always restarted: after a crash and after it stops itself."""
    TRANSIENT = "transient"
    """Restarted after a crash only."""
    TEMPORARY = "temporary"
    """Never restarted."""


class Outcome(enum.Enum):
    """How one incarnation of a child ended, short of a crash."""

    EXITED = "exited"
    """The child stopped itself: a normal exit."""
    STOPPED = "stopped"
    """Someone stopped it for good."""
    RESTART = "restart"
    """Its supervisor asked for a restart (one-for-all)."""


def unwrap_group(error: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups, else `error` itself.

    Re-raise the result with `raise inner from inner.__cause__`: `from None` would
    erase the cause the error was raised with.
    """
    while isinstance(error, BaseExceptionGroup):
        inner = [e for e in error.exceptions if not isinstance(e, anyio.get_cancelled_exc_class())]
        if not inner:
            return error
        error = inner[0]
    return error


class ActorCell(Generic[M]):
    """Holds an actor's mailbox, ref, counters and watchers; runs its incarnations."""

    def __init__(
        self,
        supervisor: Supervisor,
        factory: Callable[[], Actor[M]],
        name: str,
        mailbox_size: int | None,
        restart: RestartPolicy,
    ) -> None:
        # The first instance is made now: a factory that fails does so in `spawn`, and
        # an actor class's own `mailbox_size` applies even behind a lambda factory.
        first = factory()
        if mailbox_size is None:
            mailbox_size = first.mailbox_size
        self.supervisor = supervisor
        self.name = name
        self.restart = restart
        self.clock: Clock = supervisor.clock
        self.dead_letters: DeadLetters = supervisor.dead_letters
        self.ask_timeouts: AskTimeouts = supervisor.ask_timeouts
        self.default_ask_timeout = supervisor.default_ask_timeout
        self.mailbox: Mailbox[M] = Mailbox(mailbox_size)
        self.ref: ActorRef[M] = ActorRef(self)
        self._factory = factory
        self._next_actor: Actor[M] | None = first
        self._task: asyncio.Task[Any] | None = None
        self._reason: BaseException | None = None
        self._seed = supervisor.seed
        self._watchers: list[ActorRef[Any]] = []
        self._stop_requested = False
        self._exit_requested = False
        self._restart_requested = False
        self._scope: anyio.CancelScope | None = None
        self._terminated = anyio.Event()
        self._handled = 0
        self._busy = 0.0
        self._restarts = 0
        self._incarnation = 0

    def stats(self) -> ActorStats:
        return ActorStats(
            handled=self._handled,
            depth=len(self.mailbox),
            max_depth=self.mailbox.max_depth,
            busy_seconds=self._busy,
            restarts=self._restarts,
        )

    # -- requests from outside ------------------------------------------------

    def add_watcher(self, watcher: ActorRef[Any]) -> None:
        if self._terminated.is_set():
            self._notify(watcher, self._reason)
        else:
            self._watchers.append(watcher)

    def remove_watcher(self, watcher: ActorRef[Any]) -> None:
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def request_exit(self) -> None:
        self._exit_requested = True
        self.mailbox.wake()

    def request_restart(self) -> None:
        self._restart_requested = True
        if self._scope is not None:
            self._scope.cancel()

    async def stop(self) -> None:
        self._stop_requested = True
        self.mailbox.wake()
        if self._task is not None and asyncio.current_task() is self._task:
            # The actor stops itself: it ends after this message; waiting would deadlock.
            return
        await self.supervisor._ensure_finished(self)
        if self._terminated.is_set():
            return
        # The message being handled may finish, but not forever: past the shutdown
        # timeout the incarnation is cancelled, so a stuck actor cannot hang shutdown.
        timer = self.clock.call_later(self.supervisor.system.shutdown_timeout, self._force_stop)
        try:
            await self._terminated.wait()
        finally:
            timer.cancel()

    def _force_stop(self) -> None:
        if self._scope is not None and not self._terminated.is_set():
            logger.warning("%s did not stop in time: cancelling it", self.name)
            self._scope.cancel()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    # -- running ----------------------------------------------------------------

    async def run_once(self) -> Outcome:
        """Run one incarnation: a fresh actor instance until it stops, exits or crashes."""
        self._exit_requested = False
        self._restart_requested = False
        self._incarnation += 1
        if self._incarnation > 1:
            self._restarts += 1
        actor = self._next_actor if self._next_actor is not None else self._factory()
        self._next_actor = None
        self._task = asyncio.current_task()
        rng = random.Random(f"{self._seed}/{self.name}/{self._incarnation}")
        context: ActorContext[M] | None = None
        # Not a `finally`: compiled (mypyc), a try/finally whose finally block awaits
        # re-raises whatever sys.exc_info() holds after it, and a compiled coroutine
        # resumed by a throw can leave a swallowed exception there: the cancellation of
        # a one-for-all restart, swallowed by the task group, came back out of here.
        try:
            try:
                async with anyio.create_task_group() as task_group:
                    self._scope = task_group.cancel_scope
                    context = ActorContext(self, task_group, rng)
                    actor._context = context
                    await actor.on_start()
                    await self._loop(actor)
                    task_group.cancel_scope.cancel()
            except BaseExceptionGroup as group:
                error = unwrap_group(group)
                raise error from error.__cause__
        except BaseException as ending:
            await self._end_incarnation(actor, context)
            raise ending  # not a bare raise: sys.exc_info() need not survive the await
        await self._end_incarnation(actor, context)
        if self._stop_requested:
            return Outcome.STOPPED
        if self._restart_requested:
            return Outcome.RESTART
        return Outcome.EXITED

    async def _end_incarnation(self, actor: Actor[M], context: ActorContext[M] | None) -> None:
        self._scope = None
        self._task = None
        if context is not None:
            context._cancel_timers()
            with anyio.CancelScope(shield=True):
                try:
                    await actor.on_stop()
                except Exception:
                    logger.exception("actor %s failed in on_stop", self.name)

    async def _loop(self, actor: Actor[M]) -> None:
        # The hot path of every message: locals instead of attribute and method lookups.
        mailbox = self.mailbox
        queued = mailbox.queued
        take = queued.popleft
        waiting_senders = mailbox.waiting_senders
        arrival = mailbox.arrival
        receive = actor.receive
        perf_counter = time.perf_counter
        checkpoint = _yield_turn
        idle_turns = 0
        while not (self._stop_requested or self._exit_requested):
            if not queued:
                # Yield one turn before parking: a peer that answers within that turn
                # (an asker sending its next request) finds this actor awake, so a
                # request/response pair costs one event loop iteration instead of two.
                if idle_turns:
                    await arrival()
                else:
                    await checkpoint()
                idle_turns += 1
                continue
            idle_turns = 0
            started = perf_counter()
            handled = 0
            try:
                while queued:
                    message = take()
                    if waiting_senders:
                        mailbox.wake_sender()
                    try:
                        await receive(message)
                    except Exception as error:
                        _fail_pending_reply(message, ActorCrashed(self.name, error))
                        raise
                    except BaseException:
                        # Cancelled mid-message (a sibling's restart, or shutdown).
                        _fail_pending_reply(message, ActorStopped(self.name))
                        raise
                    handled += 1
                    if handled == _BATCH or self._stop_requested or self._exit_requested:
                        break
            finally:
                self._handled += handled
                self._busy += perf_counter() - started
            if handled == _BATCH:
                await checkpoint()

    # -- the end -------------------------------------------------------------------

    def terminate(self, reason: BaseException | None) -> None:
        """Close for good: dead-letter what is queued and tell the watchers."""
        if self._terminated.is_set():
            return
        self._reason = reason
        self._next_actor = None
        self.mailbox.close(self._dead_letter)
        self._terminated.set()
        for watcher in self._watchers:
            self._notify(watcher, reason)
        self._watchers.clear()

    def _dead_letter(self, message: M) -> None:
        self.dead_letters.publish(self.name, message, "actor stopped")
        _fail_pending_reply(message, ActorStopped(self.name))

    def _notify(self, watcher: ActorRef[Any], reason: BaseException | None) -> None:
        message = Terminated(self.ref, reason)
        if not watcher.try_tell(message):
            self.supervisor.start_soon(lambda: watcher.tell(message))

    @property
    def terminated(self) -> bool:
        return self._terminated.is_set()


@types.coroutine
def _yield_turn() -> Generator[None, None, None]:
    """Let every other ready task run once: `asyncio.sleep(0)` without its two calls.

    A cancellation point like any other await: anyio cancels through `Task.cancel`.
    """
    yield


def _fail_pending_reply(message: object, error: Exception) -> None:
    """Answer the ask a message carries, if any, so its asker need not time out."""
    reply = getattr(message, "reply", None)
    if isinstance(reply, Reply) and not reply.done:
        reply.fail(error)
