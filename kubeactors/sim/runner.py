"""`run_scenario`: play a scenario on a cluster on the virtual clock and report on it.

The run is a timeline: every workload change, fault, sample and invariant check is
an entry at a virtual time, applied in time order (at equal times: in the
scenario's order, then samples, then checks). Between entries the cluster runs on
its own, on the virtual clock, so a day takes as long as the work in it. Choices
the scenario leaves open (which node crashes, which pod is deleted) come from a
`random.Random` seeded with the run's seed: one seed, one run.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import msgspec

from ..api import ApiError, Deployment, Pod
from ..cluster import Cluster
from ..controllers import ALL_CONTROLLERS, ControllerManagerSettings, NodeLifecycleSettings
from ..node import NodeSettings, NodeShape
from ..store import MEMORY
from ..testing import ClusterState, Violation, history_digest
from ..testing.invariants import CHECKERS, taints_tolerated
from . import _objects
from ._observer import Observer
from .report import Sample, SimReport, ViolationSeen
from .scenario import (
    BatchWorkload,
    ChurnWorkload,
    CrashLoopFault,
    DeploymentWorkload,
    Fault,
    NodeCrashFault,
    PartitionFault,
    Scenario,
    SlowStoreFault,
    ZoneOutageFault,
)

__all__ = ["cluster_for", "play", "run_scenario"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_Action = Callable[[], Awaitable[None]]
# A scenario makes no Services, ReplicationControllers, Jobs (its batch pods are bare
# pods), disruption budgets or quotas, and names no service accounts: their
# controllers would only add watchers for every pod event to serve.
_CONTROLLERS = tuple(
    name
    for name in ALL_CONTROLLERS
    if name
    not in (
        "endpoints",
        "endpointslice",
        "replicationcontroller",
        "job",
        "disruption",
        "resourcequota",
        "serviceaccount",
    )
)
# At one moment: the scenario's entries first, then samples, then checks.
_ACTION, _SAMPLE, _CHECK = 0, 1, 2


def _times(start: float, every: float | None, until: float | None, end: float) -> list[float]:
    """`start`, then every `every` up to `until` (or `end`), within the run."""
    if start > end:
        return []
    if every is None:
        return [start]
    last = end if until is None else min(until, end)
    count = int((last - start) // every)
    return [start + i * every for i in range(count + 1)]


class _Run:
    """One run of a scenario on a running cluster."""

    def __init__(
        self,
        scenario: Scenario,
        cluster: Cluster,
        seed: int,
        until: float,
        on_sample: Callable[[Sample], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.on_sample = on_sample
        self.cluster = cluster
        self.client = cluster.client
        self.until = until
        self.random = random.Random(f"{seed}/sim")
        self.origin = cluster.clock.now()
        self.observer = Observer(self.client, self.now, settle=scenario.cluster.status_every)
        self.groups: dict[str, list[str]] = {}
        self.zones: dict[str, list[str]] = {}
        self.crashed: set[str] = set()
        self.partitioned: set[str] = set()
        self.timeline: list[tuple[float, int, int, _Action]] = []
        self._order = itertools.count()
        self.samples: list[Sample] = []
        self.violations: dict[tuple[str, str, str], ViolationSeen] = {}
        self.checks = 0

    def now(self) -> float:
        return self.cluster.clock.now() - self.origin

    def at(self, when: float, action: _Action, kind: int = _ACTION) -> None:
        if when <= self.until:
            heapq.heappush(self.timeline, (when, kind, next(self._order), action))

    # -- building the timeline ----------------------------------------------------------

    def plan(self) -> None:
        for workload in self.scenario.workloads:
            match workload:
                case DeploymentWorkload():
                    self.at(workload.at, self._create_deployment(workload))
                    for step in workload.scale:
                        self.at(step.at, self._scale(workload.name, step.replicas))
                case BatchWorkload():
                    for wave, when in enumerate(
                        _times(workload.at, workload.every, workload.until, self.until)
                    ):
                        self.at(when, self._create_batch(workload, wave))
                case ChurnWorkload():
                    for when in _times(workload.at, workload.every, workload.until, self.until):
                        self.at(when, self._churn(workload))
        for fault in self.scenario.faults:
            self._plan_fault(fault)
        sample_every, check_every = self.scenario.sample_every, self.scenario.check_every
        for when in _times(0.0, sample_every, None, self.until):
            self.at(when, self._sample, _SAMPLE)
        for when in _times(check_every, check_every, None, self.until):
            if when < self.until:  # the last check comes after the run in any case
                self.at(when, self._check, _CHECK)

    def _plan_fault(self, fault: Fault) -> None:
        match fault:
            case NodeCrashFault() | PartitionFault():
                for when in _times(fault.at, fault.every, fault.until, self.until):
                    self.at(when, self._hit_nodes(fault))
            case ZoneOutageFault():
                self.at(fault.at, self._zone_outage(fault))
            case SlowStoreFault():
                self.at(fault.at, self._slow_store(fault))
            case CrashLoopFault():
                self.at(fault.at, self._crash_loop(fault))

    def _ends(self, duration: float | None) -> float | None:
        return None if duration is None else self.now() + duration

    # -- workloads ------------------------------------------------------------------------

    def _create_deployment(self, workload: DeploymentWorkload) -> _Action:
        async def create() -> None:
            self.observer.desired[workload.name] = workload.replicas
            await self.client.create(
                _objects.deployment(workload, self.scenario.cluster.toleration)
            )

        return create

    async def _edit_deployment(self, name: str, change: Callable[[Deployment], Deployment]) -> None:
        while True:
            current = await self.client.get(Deployment, name, _objects.NAMESPACE)
            try:
                await self.client.update(change(current))
                return
            except ApiError as error:
                if error.code != 409:
                    raise

    def _scale(self, name: str, replicas: int) -> _Action:
        async def scale() -> None:
            self.observer.desired[name] = replicas
            await self._edit_deployment(
                name,
                lambda d: msgspec.structs.replace(
                    d, spec=msgspec.structs.replace(d.spec, replicas=replicas)
                ),
            )

        return scale

    def _create_batch(self, workload: BatchWorkload, wave: int) -> _Action:
        async def create() -> None:
            toleration = self.scenario.cluster.toleration
            pods = [_objects.batch_pod(workload, wave, i, toleration) for i in range(workload.pods)]
            await _all(self.client.create, pods)

        return create

    def _churn(self, workload: ChurnWorkload) -> _Action:
        async def churn() -> None:
            candidates = self.observer.ready_pods(workload.deployment)
            victims = self.random.sample(candidates, min(workload.pods, len(candidates)))
            for pod in victims:
                self.observer.expected_deletions.add(
                    f"{pod.metadata.namespace}/{pod.metadata.name}"
                )

            async def delete(pod: Pod) -> None:
                try:
                    await self.client.delete(Pod, pod.metadata.name, pod.metadata.namespace)
                except ApiError as error:
                    if error.code != 404:
                        raise

            await _all(delete, victims)

        return churn

    # -- faults ---------------------------------------------------------------------------

    def _free_nodes(self) -> list[str]:
        return [n for n in self.cluster.node_names if n not in self.crashed | self.partitioned]

    def _targets(self, fault: NodeCrashFault | PartitionFault) -> list[str]:
        free = self._free_nodes()
        if fault.nodes:
            return [name for name in fault.nodes if name in free]
        pool = [n for n in free if n in self.groups[fault.group]] if fault.group else free
        if fault.group and not fault.count:
            return pool
        return sorted(self.random.sample(pool, min(fault.count or 1, len(pool))))

    def _hit_nodes(self, fault: NodeCrashFault | PartitionFault) -> _Action:
        crash = isinstance(fault, NodeCrashFault)

        async def hit() -> None:
            names = self._targets(fault)
            if not names:
                logger.info(
                    "%s at %gs: no running node to hit", fault.__class__.__name__, self.now()
                )
                return
            kind = "node-crash" if crash else "partition"
            await self._take_down(names, crash)
            self.observer.track(kind, self._ends(fault.for_), _describe(names))
            if fault.for_ is not None:
                self.at(self.now() + fault.for_, self._bring_back(names, crash))

        return hit

    async def _take_down(self, names: list[str], crash: bool) -> None:
        for name in names:
            self.observer.held.add(name)
            if crash:
                self.observer.down.add(name)
                self.crashed.add(name)
                await self.cluster.stop_node(name)
            else:
                self.partitioned.add(name)
                await self.cluster.partition_node(name)

    def _bring_back(self, names: list[str], crash: bool) -> _Action:
        async def back() -> None:
            for name in names:
                self.observer.release(name)
                if crash:
                    self.crashed.discard(name)
                    await self.cluster.start_node(name)
                else:
                    self.partitioned.discard(name)
                    await self.cluster.heal_node(name)

        return back

    def _zone_outage(self, fault: ZoneOutageFault) -> _Action:
        async def outage() -> None:
            free = set(self._free_nodes())
            names = [name for name in self.zones[fault.zone] if name in free]
            await self._take_down(names, crash=True)
            target = f"zone {fault.zone} ({len(names)} nodes)"
            self.observer.track("zone-outage", self._ends(fault.for_), target)
            if fault.for_ is not None:
                self.at(self.now() + fault.for_, self._bring_back(names, crash=True))

        return outage

    def _slow_store(self, fault: SlowStoreFault) -> _Action:
        async def slow() -> None:
            await self.cluster.set_store_latency(fault.latency)
            target = f"store +{fault.latency * 1000:g}ms"
            self.observer.track("slow-store", self._ends(fault.for_), target)
            if fault.for_ is not None:

                async def fast() -> None:
                    await self.cluster.set_store_latency(0.0)

                self.at(self.now() + fault.for_, fast)

        return slow

    def _crash_loop(self, fault: CrashLoopFault) -> _Action:
        async def crash() -> None:
            await self._edit_deployment(
                fault.deployment, lambda d: _objects.with_crash_loop(d, crashing=True)
            )
            target = f"deployment {fault.deployment}"
            self.observer.track("crash-loop", self._ends(fault.for_), target)
            if fault.for_ is not None:

                async def mend() -> None:
                    await self._edit_deployment(
                        fault.deployment, lambda d: _objects.with_crash_loop(d, crashing=False)
                    )

                self.at(self.now() + fault.for_, mend)

        return crash

    # -- looking at the cluster -------------------------------------------------------

    async def _sample(self) -> None:
        sample = self.observer.sample()
        self.samples.append(sample)
        if self.on_sample is not None:
            self.on_sample(sample)

    async def _check(self) -> None:
        """Run the invariant checkers over the cluster as the informers see it now.

        Pods being deleted are left out of the taint check: a pod evicted from a dead
        node stays Terminating until its node returns, as in Kubernetes.
        """
        self.checks += 1
        nodes, pods = self.observer.nodes.items(), self.observer.pods.items()
        wall = self.cluster.clock.wall()
        state = ClusterState(nodes, pods, now=wall)
        leaving = ClusterState(
            nodes, [p for p in pods if p.metadata.deletion_timestamp is None], now=wall
        )
        found: list[Violation] = []
        for checker in CHECKERS:
            found.extend(checker(leaving if checker is taints_tolerated else state))
        for violation in found:
            key = (violation.invariant, violation.subject, violation.message)
            if key not in self.violations:
                self.violations[key] = ViolationSeen(
                    t=self.now(),
                    invariant=violation.invariant,
                    subject=violation.subject,
                    message=violation.message,
                )

    async def play(self) -> None:
        clock = self.cluster.clock
        while self.timeline:
            when, _, _, action = heapq.heappop(self.timeline)
            await clock.sleep_until(self.origin + when)
            await action()
        await clock.sleep_until(self.origin + self.until)
        self.observer.settle()


def _describe(names: list[str]) -> str:
    return ",".join(names) if len(names) <= 3 else f"{names[0]},... ({len(names)} nodes)"


async def _all(call: Callable[[T], Awaitable[object]], items: list[T]) -> None:
    """`call` each item, up to 64 at a time; the first error ends them all."""
    limiter = anyio.CapacityLimiter(64)

    async def one(item: T) -> None:
        async with limiter:
            await call(item)

    async with anyio.create_task_group() as group:
        for item in items:
            group.start_soon(one, item)


def cluster_for(scenario: Scenario, seed: int) -> Cluster:
    """The cluster `run_scenario` plays `scenario` on: no nodes yet, the scenario's timings."""
    spec = scenario.cluster
    lifecycle = NodeLifecycleSettings(
        grace_period=spec.node_grace,
        eviction_qps=spec.eviction_rate,
    )
    slow_store = any(isinstance(fault, SlowStoreFault) for fault in scenario.faults)
    return Cluster(
        nodes=0,
        clock="virtual",
        seed=seed,
        node_settings=NodeSettings(
            lease_seconds=spec.lease_every, status_seconds=spec.status_every
        ),
        controllers=ControllerManagerSettings(controllers=_CONTROLLERS, node_lifecycle=lifecycle),
        store_latency=0.0 if slow_store else None,
        # A simulation never outlives its process: no database to write each revision to.
        store=MEMORY,
        # Nothing answers in wall time; a long virtual wait is a scenario's business.
        ask_timeout=3600.0,
    )


async def run_scenario(
    scenario: Scenario,
    *,
    seed: int = 0,
    until: float | None = None,
    on_sample: Callable[[Sample], None] | None = None,
    keep_trace: bool = False,
) -> SimReport:
    """Play `scenario` on a fresh `Cluster(clock="virtual", seed=seed)` for `until`
    virtual seconds (default: the scenario's), and report what happened.

    `on_sample` is called with each sample as it is taken (for progress). With
    `keep_trace`, the report holds the trace's lines as well as their hash.
    """
    until = scenario.until if until is None else until
    if not until > 0:
        raise ValueError(f"until must be positive, got {until}")
    async with cluster_for(scenario, seed) as cluster:
        return await play(cluster, scenario, seed, until, on_sample, keep_trace)


async def play(
    cluster: Cluster,
    scenario: Scenario,
    seed: int,
    until: float,
    on_sample: Callable[[Sample], None] | None = None,
    keep_trace: bool = False,
) -> SimReport:
    """Play `scenario` on `cluster`, made by `cluster_for` and not yet given any node."""
    run = _Run(scenario, cluster, seed, until, on_sample)
    observer = run.observer
    async with anyio.create_task_group() as group:
        # The informers first, so that they see every write to a pod or node.
        group.start_soon(observer.pods.run)
        group.start_soon(observer.nodes.run)
        await observer.pods.wait_synced()
        await observer.nodes.wait_synced()
        await _start_nodes(run)
        # The run's time starts once every node has registered.
        run.origin = cluster.clock.now()
        observer.begin()
        run.plan()
        await run.play()
        await run._check()
        group.cancel_scope.cancel()
    history = observer.trace()
    return SimReport(
        scenario=scenario.name,
        seed=seed,
        until=float(until),
        nodes=scenario.node_count,
        pods_created=observer.created,
        pods_scheduled=observer.scheduled,
        pods_succeeded=observer.succeeded,
        evictions=observer.evictions,
        unschedulable_s=observer.unschedulable_s,
        unschedulable_pod_s=observer.unschedulable_pod_s,
        faults=[recovery.outcome() for recovery in observer.recoveries],
        checks=run.checks,
        violations=sorted(run.violations.values(), key=lambda v: (v.t, v.invariant, v.subject)),
        samples=run.samples,
        api_writes=len(history),
        trace_hash=history_digest(history),
        trace=history if keep_trace else [],
    )


async def _start_nodes(run: _Run) -> None:
    spec = run.scenario.cluster
    for group in spec.nodes:
        settings = NodeSettings(
            labels=_objects.node_labels(group),
            taints=list(group.taints),
            lease_seconds=spec.lease_every,
            status_seconds=spec.status_every,
        )
        shape = NodeShape(cpu=group.cpu, memory=group.memory, pods=group.pods)
        names = await run.cluster.add_nodes(group.count, shape=shape, settings=settings)
        run.groups[group.name] = names
        if group.zone:
            run.zones.setdefault(group.zone, []).extend(names)
