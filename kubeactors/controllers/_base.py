"""`Controller`: an actor built from informers and a work queue, level-triggered.

A subclass declares its informers in `setup()`, turns each change into the key of the
object that must be looked at again (`self.enqueue(key)`), and implements
`sync(key)`, which reads the desired and the observed state from the caches (never
from the event) and writes the difference. Because all state is rebuilt from the
caches, an incarnation may crash or be restarted at any moment: the next one lists,
requeues every key and converges from there.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, TypeVar

import anyio

from .._mypyc import mypyc_attr
from ..actors import Actor
from ..api import ApiError, ApiObject
from ..client import Client, Informer, QueueShutDown, WorkQueue
from ._messages import ControllerStatus, Inspect, Resync

__all__ = ["Controller", "ControllerStatus", "Inspect", "Resync"]

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=ApiObject)


@mypyc_attr(allow_interpreted_subclasses=True)
class Controller(Actor[Any]):
    """The base of every controller here; see the module docstring.

    `workers` keys are reconciled at once. A `sync` that raises is retried with the
    queue's per-key back-off; an `ApiError` is logged quietly (conflicts and
    not-found are the normal price of acting on a cache), anything else loudly.
    """

    # ClassVar: subclasses, interpreted ones too, override them in their class body.
    name: ClassVar[str] = "controller"
    workers: ClassVar[int] = 4
    resync_period: ClassVar[float | None] = None
    mailbox_size = 256

    def __init__(self, client: Client) -> None:
        self.client = client
        self._informers: list[Informer[Any]] = []
        self._synced = False
        self._syncs = 0
        self._failures = 0
        self._processing = 0
        self.queue: WorkQueue[str]

    # -- what subclasses provide ----------------------------------------------------

    def setup(self) -> None:
        """Create informers (`self.informer(kind)`) and register their handlers."""

    async def sync(self, key: str) -> None:
        """Bring the object at `key` to its desired state, from the caches."""
        raise NotImplementedError

    def all_keys(self) -> list[str]:
        """Every key to reconcile after a (re)start or a resync."""
        return []

    async def tick(self, message: Any) -> None:
        """Handle a message this base does not know (subclass timers)."""
        logger.warning("%s ignores %r", self.name, message)

    # -- helpers --------------------------------------------------------------------

    def informer(self, kind: type[R], namespace: str = "") -> Informer[R]:
        informer: Informer[R] = Informer(self.client, kind, namespace=namespace)
        self._informers.append(informer)
        return informer

    async def write_status(self, obj: R) -> R:
        """Write `obj`'s status (through the `status` subresource where the client has it)."""
        update_status = getattr(self.client, "update_status", None)
        if update_status is not None:
            written: R = await update_status(obj)
            return written
        return await self.client.update(obj)

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    @property
    def synced(self) -> bool:
        return self._synced

    # -- the actor ----------------------------------------------------------------

    async def on_start(self) -> None:
        self.queue = WorkQueue(self.context.clock)
        self.setup()
        for informer in self._informers:
            self.context.start_soon(informer.run)
        self.context.start_soon(self._run_workers)
        if self.resync_period is not None:
            self.context.send_every(self.resync_period, Resync())

    async def on_stop(self) -> None:
        self.queue.shut_down()

    async def receive(self, message: Any) -> None:
        match message:
            case Inspect(reply=reply):
                reply.send(self.status())
            case Resync():
                if self._synced:
                    for key in self.all_keys():
                        self.enqueue(key)
            case _:
                await self.tick(message)

    def status(self) -> ControllerStatus:
        return ControllerStatus(
            name=self.name,
            synced=self._synced,
            queued=len(self.queue),
            processing=self._processing,
            syncs=self._syncs,
            failures=self._failures,
        )

    async def _run_workers(self) -> None:
        for informer in self._informers:
            await informer.wait_synced()
        self._synced = True
        for key in self.all_keys():
            self.enqueue(key)
        async with anyio.create_task_group() as group:
            for _ in range(self.workers):
                group.start_soon(self._work)

    async def _work(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except QueueShutDown:
                return
            self._processing += 1
            try:
                await self.sync(key)
            except ApiError as error:
                self._failures += 1
                logger.debug("%s: sync %s: %s; retrying", self.name, key, error)
                self.queue.add_rate_limited(key)
            except Exception:
                self._failures += 1
                logger.exception("%s: sync %s failed; retrying", self.name, key)
                self.queue.add_rate_limited(key)
            else:
                self._syncs += 1
                self.queue.forget(key)
            finally:
                self._processing -= 1
                self.queue.done(key)
