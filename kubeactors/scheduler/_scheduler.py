"""The scheduler actor: informers in, bindings and status updates out."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from ..actors import Actor
from ..api import (
    ApiError,
    Event,
    EventSource,
    Namespace,
    Node,
    ObjectMeta,
    ObjectReference,
    Pod,
    PodCondition,
    ReplicaSet,
    ReplicationController,
    Service,
    format_time,
    object_key,
)
from ..client import Callback, Client, Delta, Informer
from ._cache import Cache, Placement
from ._engine import Engine, ScheduleResult
from ._messages import (
    BindFailed,
    ExpireAssumed,
    FlushQueues,
    Inspect,
    NodesChanged,
    ObjectsChanged,
    PodsChanged,
    Requeue,
    ScheduleMore,
    SchedulerMessage,
    SchedulerSnapshot,
)
from ._parsed import ParsedPods
from ._podinfo import NodeView, PodInfo, node_view
from ._profile import Profile
from ._selectors import SelectorError
from .config import SchedulerConfiguration, load_configuration, plugin_registry
from .framework import Handle, Plugin
from .plugins import DefaultPreemption
from .queue import BACKOFF, GATED, IN_FLIGHT, UNSCHEDULABLE, QueuedPod, SchedulingQueue

__all__ = ["Scheduler"]

logger = logging.getLogger(__name__)

_AFFINITY_PLUGINS = {"InterPodAffinity", "PodTopologySpread"}
_LATENCY_WINDOW = 100_000
_TIME_SLICE = 0.05
"""Seconds of scheduling before other messages (and other actors) get their turn:
failing pods that try preemption cost milliseconds each."""


class Scheduler(Actor[SchedulerMessage]):
    """Learns of nodes and pods from informers, keeps a cache, binds pods.

    Pending pods wait in the scheduling queue; each cycle runs the profile's
    plugins through the engine (vectorised by default; `engine="reference"` for
    the plain per-node forms). A chosen pod is *assumed* on its node at once (the
    cache counts it, so the next pod never double-books the node) and the bind is
    sent to the API server without waiting. A failed bind forgets the assumption
    and requeues the pod with back-off. Pods that fit nowhere get the
    `PodScheduled=False` condition and wait for a cluster event that may help.
    """

    mailbox_size = 4096

    def __init__(
        self,
        client: Client,
        *,
        config: SchedulerConfiguration | str | Path | Mapping[str, Any] | None = None,
        plugins: Mapping[str, type[Plugin]] | None = None,
        engine: str = "vectorised",
        batch_size: int = 256,
        bind_timeout: float = 60.0,
        report_unschedulable: bool = True,
        preemption_grace_seconds: int | None = None,
    ) -> None:
        self._client = client
        self._config = (
            config if isinstance(config, SchedulerConfiguration) else load_configuration(config)
        )
        self._engine_name = engine
        self._batch_size = batch_size
        self._bind_timeout = bind_timeout
        self._report = report_unschedulable
        self._grace = preemption_grace_seconds
        self._cache = Cache()
        self._parsed = ParsedPods()
        # Out-of-tree plugins (by name) join the defaults for the profiles to enable.
        registry = plugin_registry(plugins or {})
        self._profiles: dict[str, Profile] = self._config.build(Handle(self._cache), registry)
        self._engines: dict[str, Engine] = {}
        self._queue: SchedulingQueue | None = None
        self._more_requested = False
        self._scheduled = 0
        self._attempts = 0
        self._bind_failures = 0
        self._preemptions = 0
        self._latencies: deque[float] = deque(maxlen=_LATENCY_WINDOW)

    @property
    def queue(self) -> SchedulingQueue:
        assert self._queue is not None
        return self._queue

    async def on_start(self) -> None:
        context = self.context
        for name, profile in self._profiles.items():
            self._engines[name] = Engine(
                profile, self._cache, context.random, engine=self._engine_name
            )
        first = next(iter(self._profiles.values()))
        self._queue = SchedulingQueue(
            context.clock.now, first.queue_sort.sort_key, first.pre_enqueue
        )
        nodes: Informer[Node] = Informer(self._client, Node)
        pods: Informer[Pod] = Informer(self._client, Pod)
        me = context.self

        async def nodes_changed(deltas: list[Delta[Node]]) -> None:
            await me.tell(NodesChanged(deltas))

        async def pods_changed(deltas: list[Delta[Pod]]) -> None:
            await me.tell(PodsChanged(deltas))

        async def objects_changed(deltas: list[Delta[Any]]) -> None:
            await me.tell(ObjectsChanged(deltas))

        nodes.add_batch_handler(nodes_changed)
        pods.add_batch_handler(pods_changed)
        context.start_soon(nodes.run, name="scheduler-node-informer")
        context.start_soon(pods.run, name="scheduler-pod-informer")
        for kind in (Namespace, Service, ReplicaSet, ReplicationController):
            informer: Informer[Any] = Informer(self._client, kind)
            informer.add_batch_handler(objects_changed)
            context.start_soon(informer.run, name=f"scheduler-{kind.__name__.lower()}-informer")
        # A bind whose answer was lost (its request died with a crashed actor) must
        # not hold its node's resources forever.
        context.send_every(self._bind_timeout / 2, ExpireAssumed())
        context.send_every(1.0, FlushQueues())

    async def receive(self, message: SchedulerMessage) -> None:
        match message:
            case NodesChanged(deltas=deltas):
                self._nodes_changed(deltas)
            case PodsChanged(deltas=deltas):
                self._pods_changed(deltas)
            case ObjectsChanged(deltas=deltas):
                self._objects_changed(deltas)
            case BindFailed():
                self._bind_failed(message)
            case ExpireAssumed():
                self._expire_assumed()
            case FlushQueues():
                self.queue.flush()
            case Requeue():
                self.queue.flush()
            case ScheduleMore():
                self._more_requested = False
            case Inspect(reply=reply, latencies=latencies):
                reply.send(self._snapshot(latencies))
        await self._schedule_some()

    # -- learning the cluster ----------------------------------------------------

    def _nodes_changed(self, deltas: list[Delta[Node]]) -> None:
        helps = False
        for delta in deltas:
            name = delta.object.metadata.name
            if delta.type == "DELETED":
                self._cache.remove_node(name)
                continue
            if delta.old is not None and _same_view(delta.old, delta.object):
                # A status heartbeat: the view parsed from it is the one parsed from
                # the node before (or, if that failed, would fail again).
                continue
            try:
                view = node_view(delta.object)
            except SelectorError as error:
                logger.warning("node %s ignored: %s", name, error)
                continue
            old = self._cache.nodes.get(name)
            helps |= old is None or old.view is None or _could_help(old.view, view)
            self._cache.set_node(view)
        # Only a change that can make room is worth retrying the waiting pods for
        # (a heartbeat is not), as upstream's queueing hints decide.
        if helps:
            self.queue.move()

    def _objects_changed(self, deltas: list[Delta[Any]]) -> None:
        cache = self._cache
        relabelled = False
        for delta in deltas:
            obj = delta.object
            deleted = delta.type == "DELETED"
            if isinstance(obj, Namespace):
                name = obj.metadata.name
                labels = {} if deleted else dict(obj.metadata.labels)
                relabelled |= cache.namespace_labels.get(name) != labels
                if deleted:
                    cache.namespace_labels.pop(name, None)
                else:
                    cache.namespace_labels[name] = labels
            else:
                cache.workloads.apply(obj, deleted)
        # New namespace labels may let a pod's affinity (namespaceSelector) hold.
        if relabelled:
            self.queue.move({"InterPodAffinity"})

    def _pods_changed(self, deltas: list[Delta[Pod]]) -> None:
        freed = assigned = False
        queue = self.queue
        for delta in deltas:
            pod = delta.object
            key = object_key(pod)
            if delta.type == "DELETED" or pod.status.phase in ("Succeeded", "Failed"):
                # A finished pod holds nothing, as upstream's NodeInfo counts it.
                queue.delete(key)
                self._cache.evicting.discard(key)
                freed |= bool(self._cache.forget_nomination(key))
                freed |= self._cache.remove(key) is not None
            elif pod.spec.node_name:
                assigned |= self._bound(key, pod)
            else:
                self._pending(key, pod)
        if freed:
            queue.move()
        elif assigned:
            queue.move(_AFFINITY_PLUGINS)

    def _pending(self, key: str, pod: Pod) -> None:
        placement = self._cache.placed.get(key)
        if placement is not None:
            placement.info.pod = pod  # a newer version to bind with, if need be
            return
        queued = self.queue.pods.get(key)
        if queued is not None:
            self._nomination_seen(queued.info, queued.info.pod, pod)
        if queued is not None and _same_for_scheduling(queued.info.pod, pod):
            queued.info.pod = pod
            return
        try:
            info = self._parsed.info(pod)
        except SelectorError as error:
            logger.warning("pod %s cannot be scheduled: %s", key, error)
            self._report_unschedulable(pod, f"invalid pod: {error}")
            return
        if info.scheduler_name in self._engines:
            if queued is None and pod.status.nominated_node_name:
                self._cache.nominate(info, pod.status.nominated_node_name)
            self.queue.add(info)

    def _nomination_seen(self, info: PodInfo, old: Pod, new: Pod) -> None:
        """Follow `status.nominatedNodeName` of a queued pod, as upstream's nominator:
        a node set there is the pod's nomination; one cleared there is gone; but a
        nomination this scheduler just made stays while the status does not show it
        yet."""
        node = new.status.nominated_node_name
        if node:
            if self._cache.nominations.get(info.key, ("",))[0] != node:
                self._cache.nominate(info, node)
        elif old.status.nominated_node_name:
            self._cache.forget_nomination(info.key)

    def _bound(self, key: str, pod: Pod) -> bool:
        """The API server shows `pod` bound: confirm our assumption or count it anew."""
        self.queue.delete(key)
        self._cache.forget_nomination(key)
        node = pod.spec.node_name
        placement = self._cache.placed.get(key)
        terminating = pod.metadata.deletion_timestamp is not None
        if placement is not None:
            if placement.node == node and terminating == placement.info.terminating:
                placement.assumed = False
                placement.info.pod = pod
                return False
            # Moved, or now terminating (it no longer counts for spreading and
            # affinity, and preemption waits for it): count it anew.
            self._cache.remove(key)
        try:
            info = self._parsed.info(pod)
        except SelectorError:
            info = PodInfo(pod=pod, key=key, namespace=pod.metadata.namespace, labels={})
        self._cache.add(info, node, assumed=False)
        return bool(info.labels)

    def _bind_failed(self, failure: BindFailed) -> None:
        self._bind_failures += 1
        placement = self._cache.placed.get(failure.pod)
        if placement is None or not placement.assumed or placement.node != failure.node:
            return
        logger.info("binding %s to %s failed: %s", failure.pod, failure.node, failure.reason)
        self._cache.remove(failure.pod)
        self.queue.readd(placement.info, failure.reason)
        self.queue.move()

    def _expire_assumed(self) -> None:
        deadline = self.context.clock.now() - self._bind_timeout
        expired = [key for key, p in self._cache.placed.items() if p.assumed and p.since < deadline]
        for key in expired:
            placement = self._cache.placed[key]
            self._bind_failed(BindFailed(key, placement.node, "no answer to the bind"))

    # -- scheduling --------------------------------------------------------------

    async def _schedule_some(self) -> None:
        """Schedule up to one batch (or `_TIME_SLICE` of work), then let other messages
        in before the next.

        Pods alike (replicas of one template) are popped as runs and placed by the
        engine in one go; the binds go out once the batch is placed.
        """
        queue = self.queue
        budget = self._batch_size
        placed: list[Placement] = []
        clock = self.context.clock
        deadline = clock.now() + _TIME_SLICE
        while budget > 0 and clock.now() < deadline:
            run = queue.pop_run(budget)
            if not run:
                break
            budget -= len(run)
            await self._schedule_run(run, placed)
        if placed:
            await self._bind(placed)
        if queue.has_active() and not self._more_requested:
            self._more_requested = self.context.self.try_tell(ScheduleMore())

    async def _schedule_run(self, run: list[QueuedPod], placed: list[Placement]) -> None:
        """Schedule pods alike in turn; each that fits is assumed on its node at once."""
        engine = self._engines[run[0].info.scheduler_name]
        clock = self.context.clock
        cache, queue, latencies = self._cache, self.queue, self._latencies
        last = started = clock.now()

        def assume(info: PodInfo, result: ScheduleResult) -> None:
            nonlocal last
            queue.done(info.key)
            cache.forget_nomination(info.key)
            placed.append(cache.add(info, result.node, assumed=True, since=started))
            now = clock.now()
            latencies.append(now - last)
            last = now

        while run:
            results = engine.schedule_run([queued.info for queued in run], assume)
            self._attempts += len(results)
            failure = results[-1]
            if failure.node:
                self._scheduled += len(results)
                return
            self._scheduled += len(results) - 1
            latencies.append(clock.now() - last)
            await self._unschedulable(run[len(results) - 1], failure)
            run = run[len(results) :]
            last = clock.now()

    async def _unschedulable(self, queued: QueuedPod, result: ScheduleResult) -> None:
        """No node fits: preempt if that helps, park the pod, say why on the pod."""
        info = queued.info
        message = result.message
        nominated = ""
        if result.prefilter is None:
            message, nominated = self._post_filter(info, message)
        self.queue.unschedulable(queued, result.failed_plugins, message)
        logger.debug("%s: %s", info.key, message)
        self._report_unschedulable(info.pod, message, nominated)

    def _post_filter(self, info: PodInfo, message: str) -> tuple[str, str]:
        """DefaultPreemption: evict victims and nominate a node. The message to report,
        and the node nominated ("" if none)."""
        profile = self._profiles[info.scheduler_name]
        cache = self._cache
        for plugin in profile.post_filter:
            if not isinstance(plugin, DefaultPreemption):
                continue
            ineligible = plugin.eligible(info, cache)
            if ineligible:
                return f"{message} preemption: {ineligible}", ""
            candidate = plugin.find(
                info, cache, profile.pre_filter, profile.filter, self.context.random
            )
            if candidate is None:
                nodes = len(cache.table)
                return (
                    f"{message} preemption: 0/{nodes} nodes are available: "
                    f"{nodes} No preemption victims found for incoming pod."
                ), ""
            for victim in candidate.victims:
                if victim.terminating or victim.key in cache.evicting:
                    continue  # on its way out already
                cache.evicting.add(victim.key)
                self._preemptions += 1
                meta = victim.pod.metadata
                self.context.start_soon(
                    partial(self._evict, meta.name, meta.namespace, info.scheduler_name)
                )
            node = candidate.node
            # The room the victims leave is the preemptor's: lower-priority pods
            # nominated there lose their nomination, as upstream.
            for other in list(cache.nominated.get(node, {}).values()):
                if other.priority < info.priority:
                    cache.forget_nomination(other.key)
                    self._set_nominated(other.pod, "")
            cache.nominate(info, node)
            logger.info("%s preempts %d pod(s) on %s", info.key, len(candidate.victims), node)
            return message, node
        return message, ""

    async def _evict(self, name: str, namespace: str, scheduler_name: str) -> None:
        """Mark the victim `DisruptionTarget` (reason `PreemptionByScheduler`), then
        delete it, as upstream: whoever watches it learns why it goes."""
        condition = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "PreemptionByScheduler",
            "message": f"{scheduler_name}: preempting to accommodate a higher priority pod",
            "lastTransitionTime": format_time(self.context.clock.wall()),
        }
        client = self._client
        try:
            await client.patch(
                Pod,
                name,
                {"status": {"conditions": [condition]}},
                namespace=namespace,
                subresource="status",
            )
            await client.delete(Pod, name, namespace, grace_period_seconds=self._grace)
        except Exception as error:  # a slow API server must not crash the scheduler
            logger.info("preemption victim %s/%s: %s", namespace, name, error)
            self._cache.evicting.discard(f"{namespace}/{name}")

    def _set_nominated(self, pod: Pod, node: str) -> None:
        """Write `status.nominatedNodeName` of `pod` (empty: clear it), without waiting."""
        nominated = msgspec.structs.replace(
            pod, status=msgspec.structs.replace(pod.status, nominated_node_name=node)
        )

        def answered(_: Any, error: BaseException | None) -> None:
            if error is not None:
                logger.debug("nominating %s: %s", object_key(pod), error)

        client = self._client
        self.context.start_soon(
            lambda: client.send_update(nominated, answered, subresource="status")
        )

    async def _bind(self, placed: list[Placement]) -> None:
        """DefaultBinder: POST each pod's `binding` subresource, without waiting (the
        batch's bindings in one message; each is still written and answered alone)."""
        context = self.context

        def on_answer(key: str, node: str) -> Callback[Any]:
            def answered(_: Any, error: BaseException | None) -> None:
                # Runs in the task that answers the bind: only hand the news over.
                if error is not None:
                    context.send_later(0.0, BindFailed(key, node, str(error)))

            return answered

        # Sent, not awaited: the informer shows a pod bound when its write lands.
        await self._client.send_binds(
            [(p.info.pod, p.node, on_answer(p.info.key, p.node)) for p in placed]
        )

    def _report_unschedulable(self, pod: Pod, message: str, nominated: str = "") -> None:
        """Set `PodScheduled=False` (reason Unschedulable) unless it already says so,
        and `status.nominatedNodeName` if preemption nominated a node (one write)."""
        if not self._report:
            if nominated:
                self._set_nominated(pod, nominated)
            return
        conditions = [c for c in pod.status.conditions if c.type != "PodScheduled"]
        node = nominated or pod.status.nominated_node_name
        for condition in pod.status.conditions:
            if (
                condition.type == "PodScheduled"
                and condition.message == message
                and node == pod.status.nominated_node_name
            ):
                return
        conditions.append(
            PodCondition(
                type="PodScheduled", status="False", reason="Unschedulable", message=message
            )
        )
        updated = msgspec.structs.replace(
            pod,
            status=msgspec.structs.replace(
                pod.status, conditions=conditions, nominated_node_name=node
            ),
        )

        def answered(_: Any, error: BaseException | None) -> None:
            if error is not None:
                logger.debug("status of %s not updated: %s", object_key(pod), error)

        meta = pod.metadata
        event = Event(
            metadata=ObjectMeta(generate_name=f"{meta.name}.", namespace=meta.namespace),
            involved_object=ObjectReference(
                kind="Pod", name=meta.name, namespace=meta.namespace, uid=meta.uid, api_version="v1"
            ),
            reason="FailedScheduling",
            message=message,
            type="Warning",
            count=1,
            source=EventSource(component="default-scheduler"),
            reporting_component="default-scheduler",
            action="Scheduling",
        )
        client = self._client

        async def send() -> None:
            await client.send_update(updated, answered, subresource="status")
            try:
                await client.create(event)
            except ApiError as error:
                logger.debug("event for %s not recorded: %s", object_key(pod), error)

        self.context.start_soon(send)

    def _snapshot(self, latencies: bool) -> SchedulerSnapshot:
        queue = self.queue
        placed = self._cache.placed.values()
        waiting = [
            key
            for key, queued in queue.pods.items()
            if queued.where in (UNSCHEDULABLE, BACKOFF) and queued.message
        ]
        return SchedulerSnapshot(
            scheduled=self._scheduled,
            bind_failures=self._bind_failures,
            pending=sorted(queue.pods),
            unschedulable=sorted(waiting),
            nodes=len(self._cache.table),
            bound=sum(not p.assumed for p in placed),
            assumed=sum(p.assumed for p in placed),
            queued=queue.count("active") + queue.count(IN_FLIGHT),
            gated=queue.keys(GATED),
            attempts=self._attempts,
            preemptions=self._preemptions,
            attempt_seconds=list(self._latencies) if latencies else [],
        )


def _same_for_scheduling(old: Pod, new: Pod) -> bool:
    """True if nothing the scheduler reads changed (a status update, say)."""
    return (
        old.spec == new.spec
        and old.metadata.labels == new.metadata.labels
        and old.metadata.annotations == new.metadata.annotations
    )


def _same_view(old: Node, new: Node) -> bool:
    """Whether `node_view` of `new` equals that of `old`: the fields it reads are equal.

    A node's status post keeps the labels, spec and resource maps of the Node it was
    made from, the very objects: each is compared only if it is another object.
    """
    old_meta, new_meta = old.metadata, new.metadata
    if old_meta.name != new_meta.name:
        return False
    old_labels, new_labels = old_meta.labels, new_meta.labels
    if old_labels is not new_labels and old_labels != new_labels:
        return False
    old_spec, new_spec = old.spec, new.spec
    if old_spec is not new_spec and (
        old_spec.taints != new_spec.taints or old_spec.unschedulable != new_spec.unschedulable
    ):
        return False
    old_status, new_status = old.status, new.status
    old_amounts, new_amounts = old_status.allocatable, new_status.allocatable
    if old_amounts is not new_amounts and old_amounts != new_amounts:
        return False
    old_amounts, new_amounts = old_status.capacity, new_status.capacity
    return old_amounts is new_amounts or old_amounts == new_amounts


def _could_help(old: NodeView, new: NodeView) -> bool:
    """True if a node change can make room for a pod that did not fit before."""
    if old.unschedulable and not new.unschedulable:
        return True
    if any(new.allocatable.get(r, 0) > amount for r, amount in old.allocatable.items()):
        return True
    if set(new.allocatable) - set(old.allocatable):
        return True
    return old.labels != new.labels or old.taints != new.taints or old.images != new.images
