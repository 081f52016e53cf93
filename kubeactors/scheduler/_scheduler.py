"""The scheduler actor: places pending pods on nodes where their requests fit."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import msgspec

from ..actors import Actor
from ..api import Node, Pod, Resources, node_allocatable, object_key, pod_requests
from ..client import Client, Delta, Informer
from ._messages import (
    BindFailed,
    ExpireAssumed,
    Inspect,
    NodesChanged,
    PodsChanged,
    Requeue,
    ScheduleMore,
    SchedulerMessage,
    SchedulerSnapshot,
)
from ._table import NodeTable

__all__ = ["Scheduler"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Placement:
    row: int
    node: str
    request: Resources
    assumed: bool
    """True from the scheduler's choice until the informer shows the pod bound."""
    since: float = 0.0
    """When the pod was assumed, on the actor's clock."""


class Scheduler(Actor[SchedulerMessage]):
    """Learns of nodes and pods from informers, keeps a node table, binds pods.

    Each pending pod goes to a feasible node with the least allocated resources; the
    pod is *assumed* there at once (the table counts it, so the next pod never
    double-books the node) and the bind is sent to the API server without waiting.
    A failed bind forgets the assumption and requeues the pod. Pods that fit nowhere
    wait until a node changes or a pod goes away.
    """

    mailbox_size = 4096

    def __init__(
        self,
        client: Client,
        *,
        batch_size: int = 256,
        retry_delay: float = 0.1,
        bind_timeout: float = 60.0,
    ) -> None:
        self._client = client
        self._batch_size = batch_size
        self._retry_delay = retry_delay
        self._bind_timeout = bind_timeout
        self._table = NodeTable()
        self._pending: dict[str, Pod] = {}
        self._placed: dict[str, _Placement] = {}
        self._active: deque[str] = deque()
        self._queued: set[str] = set()
        self._unschedulable: set[str] = set()
        self._more_requested = False
        self._scheduled = 0
        self._bind_failures = 0

    async def on_start(self) -> None:
        nodes: Informer[Node] = Informer(self._client, Node)
        pods: Informer[Pod] = Informer(self._client, Pod)
        me = self.context.self

        async def nodes_changed(deltas: list[Delta[Node]]) -> None:
            await me.tell(NodesChanged(deltas))

        async def pods_changed(deltas: list[Delta[Pod]]) -> None:
            await me.tell(PodsChanged(deltas))

        nodes.add_batch_handler(nodes_changed)
        pods.add_batch_handler(pods_changed)
        self.context.start_soon(nodes.run, name="scheduler-node-informer")
        self.context.start_soon(pods.run, name="scheduler-pod-informer")
        # A bind whose answer was lost (its request died with a crashed actor) must
        # not hold its node's resources forever.
        self.context.send_every(self._bind_timeout / 2, ExpireAssumed())

    async def receive(self, message: SchedulerMessage) -> None:
        match message:
            case NodesChanged(deltas=deltas):
                self._nodes_changed(deltas)
            case PodsChanged(deltas=deltas):
                self._pods_changed(deltas)
            case BindFailed():
                self._bind_failed(message)
            case ExpireAssumed():
                self._expire_assumed()
            case Requeue(pod=key):
                if key in self._pending and key not in self._placed:
                    self._enqueue(key)
            case ScheduleMore():
                self._more_requested = False
            case Inspect(reply=reply):
                reply.send(self._snapshot())
        await self._schedule_some()

    # -- learning the cluster ----------------------------------------------------

    def _nodes_changed(self, deltas: list[Delta[Node]]) -> None:
        more_room = False
        for delta in deltas:
            node = delta.object
            if delta.type == "DELETED":
                self._table.remove_node(node.metadata.name)
            else:
                more_room |= self._table.set_node(
                    node.metadata.name,
                    node_allocatable(node),
                    schedulable=not node.spec.unschedulable,
                )
        # Only a change that can make room is worth retrying the waiting pods for
        # (a heartbeat is not), as upstream's queueing hints decide.
        if more_room:
            self._retry_unschedulable()

    def _pods_changed(self, deltas: list[Delta[Pod]]) -> None:
        freed = False
        for delta in deltas:
            pod = delta.object
            key = object_key(pod)
            if delta.type == "DELETED":
                self._pending.pop(key, None)
                self._unschedulable.discard(key)
                self._queued.discard(key)
                freed |= self._forget(key)
            elif pod.status.phase in ("Succeeded", "Failed"):
                # A finished pod holds nothing, as upstream's NodeInfo counts it.
                self._pending.pop(key, None)
                self._queued.discard(key)
                self._unschedulable.discard(key)
                freed |= self._forget(key)
            elif pod.spec.node_name:
                self._bound(key, pod)
            else:
                self._pending[key] = pod
                if key not in self._placed and key not in self._unschedulable:
                    self._enqueue(key)
        if freed:
            self._retry_unschedulable()

    def _bound(self, key: str, pod: Pod) -> None:
        """The API server shows `pod` bound: confirm our assumption or count it anew."""
        self._pending.pop(key, None)
        self._unschedulable.discard(key)
        self._queued.discard(key)
        node = pod.spec.node_name
        placement = self._placed.get(key)
        if placement is not None:
            if placement.node == node:
                placement.assumed = False
                return
            self._forget(key)
        row = self._table.row(node)
        request = pod_requests(pod)
        self._table.add_pod(row, request)
        self._placed[key] = _Placement(row, node, request, assumed=False)

    def _forget(self, key: str) -> bool:
        placement = self._placed.pop(key, None)
        if placement is None:
            return False
        self._table.remove_pod(placement.row, placement.request)
        return True

    def _bind_failed(self, failure: BindFailed) -> None:
        self._bind_failures += 1
        placement = self._placed.get(failure.pod)
        if placement is None or not placement.assumed or placement.node != failure.node:
            return
        logger.info("binding %s to %s failed: %s", failure.pod, failure.node, failure.reason)
        self._forget(failure.pod)
        self._retry_unschedulable()
        if failure.pod in self._pending:
            # Give the informer time to bring the pod's newer version before retrying.
            self.context.send_later(self._retry_delay, Requeue(failure.pod))

    def _expire_assumed(self) -> None:
        deadline = self.context.clock.now() - self._bind_timeout
        expired = [key for key, p in self._placed.items() if p.assumed and p.since < deadline]
        for key in expired:
            placement = self._placed[key]
            self._bind_failed(BindFailed(key, placement.node, "no answer to the bind"))

    # -- the queue ---------------------------------------------------------------

    def _enqueue(self, key: str) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._active.append(key)

    def _retry_unschedulable(self) -> None:
        waiting, self._unschedulable = self._unschedulable, set()
        for key in sorted(waiting):
            self._enqueue(key)

    async def _schedule_some(self) -> None:
        """Schedule up to one batch, then let other messages in before the next."""
        for _ in range(min(self._batch_size, len(self._active))):
            key = self._active.popleft()
            self._queued.discard(key)
            pod = self._pending.get(key)
            if pod is not None and key not in self._placed:
                await self._schedule_one(key, pod)
        if self._active and not self._more_requested:
            self._more_requested = self.context.self.try_tell(ScheduleMore())

    async def _schedule_one(self, key: str, pod: Pod) -> None:
        request = pod_requests(pod)
        row = self._table.pick(request, self.context.random)
        if row is None:
            self._unschedulable.add(key)
            logger.debug("%s fits on none of %d nodes", key, len(self._table))
            return
        node = self._table.names[row]
        self._table.add_pod(row, request)
        self._placed[key] = _Placement(
            row, node, request, assumed=True, since=self.context.clock.now()
        )
        self._scheduled += 1
        bound = msgspec.structs.replace(pod, spec=msgspec.structs.replace(pod.spec, node_name=node))
        context = self.context

        def answered(_: Pod | None, error: BaseException | None) -> None:
            # Runs in the task that answers the update: only hand the news over.
            if error is not None:
                context.send_later(0.0, BindFailed(key, node, str(error)))

        # Sent, not awaited: the informer shows the pod bound when the write lands.
        await self._client.send_update(bound, answered)

    def _snapshot(self) -> SchedulerSnapshot:
        return SchedulerSnapshot(
            scheduled=self._scheduled,
            bind_failures=self._bind_failures,
            pending=sorted(k for k in self._pending if k not in self._placed),
            unschedulable=sorted(self._unschedulable),
            nodes=len(self._table),
            bound=sum(not p.assumed for p in self._placed.values()),
            assumed=sum(p.assumed for p in self._placed.values()),
            queued=len(self._active),
        )
