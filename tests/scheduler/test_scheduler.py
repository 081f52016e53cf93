from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio
import msgspec

from kubeactors.actors import ActorRef
from kubeactors.api import (
    Event,
    Namespace,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PriorityClass,
)
from kubeactors.scheduler import Inspect, Scheduler, SchedulerMessage, SchedulerSnapshot

from ..api.harness import Harness, make_pod, running_api, wait_for


def _node(name: str, cpu: str = "1", memory: str = "1Gi", pods: int = 110) -> Node:
    resources = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    return Node(
        metadata=ObjectMeta(name=name),
        status=NodeStatus(capacity=resources, allocatable=resources),
    )


def _start_scheduler(h: Harness) -> ActorRef[SchedulerMessage]:
    return h.system.spawn(lambda: Scheduler(h.client), name="scheduler", mailbox_size=4096)


def _all_bound(pods: list[Pod]) -> bool:
    return bool(pods) and all(pod.spec.node_name for pod in pods)


async def _snapshot_when(
    scheduler: ActorRef[SchedulerMessage], predicate: Callable[[SchedulerSnapshot], bool]
) -> SchedulerSnapshot:
    for _ in range(500):
        snapshot = await scheduler.ask(Inspect)
        if predicate(snapshot):
            return snapshot
        await anyio.sleep(0.01)
    raise AssertionError(f"the scheduler never got there; last seen {snapshot}")


async def test_binds_pods_where_they_fit_spreading_by_least_allocated(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        for name in ("a", "b"):
            await h.client.create(_node(name))
        await h.client.create(_node("tiny", cpu="50m"))
        _start_scheduler(h)
        for index in range(6):
            await h.client.create(make_pod(f"p{index}", cpu="300m", memory="100Mi"))
        pods = await wait_for(h.client, Pod, _all_bound)
        assert Counter(pod.spec.node_name for pod in pods) == {"a": 3, "b": 3}


async def test_never_overcommits_and_waits_when_nothing_fits(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a", cpu="1", memory="1Gi"))
        scheduler = _start_scheduler(h)
        for index in range(5):
            await h.client.create(make_pod(f"p{index}", cpu="300m", memory="100Mi"))
        snapshot = await _snapshot_when(scheduler, lambda s: len(s.unschedulable) == 2)
        assert snapshot.scheduled == 3
        pods = await wait_for(
            h.client, Pod, lambda pods: sum(bool(p.spec.node_name) for p in pods) == 3
        )
        assert sorted(p.metadata.name for p in pods if not p.spec.node_name) == sorted(
            key.split("/")[1] for key in snapshot.unschedulable
        )
        # A new node makes room: the waiting pods are retried and bound.
        await h.client.create(_node("b", cpu="1", memory="1Gi"))
        pods = await wait_for(h.client, Pod, _all_bound)
        assert Counter(pod.spec.node_name for pod in pods) == {"a": 3, "b": 2}


async def test_a_deleted_pod_makes_room_for_a_waiting_one(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a", cpu="1"))
        scheduler = _start_scheduler(h)
        await h.client.create(make_pod("big", cpu="800m"))
        await wait_for(h.client, Pod, _all_bound)
        await h.client.create(make_pod("next", cpu="800m"))
        await _snapshot_when(scheduler, lambda s: s.unschedulable == ["default/next"])
        await h.client.delete(Pod, "big")
        pods = await wait_for(h.client, Pod, _all_bound)
        assert [(p.metadata.name, p.spec.node_name) for p in pods] == [("next", "a")]


async def test_cordoned_node_gets_nothing_until_uncordoned(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        node = await h.client.create(
            msgspec.structs.replace(_node("a"), spec=NodeSpec(unschedulable=True))
        )
        scheduler = _start_scheduler(h)
        await h.client.create(make_pod("p"))
        await _snapshot_when(scheduler, lambda s: s.unschedulable == ["default/p"])
        await h.client.update(msgspec.structs.replace(node, spec=NodeSpec()))
        pods = await wait_for(h.client, Pod, _all_bound)
        assert pods[0].spec.node_name == "a"


async def test_a_pod_bound_by_someone_else_is_counted(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a", cpu="1"))
        await h.client.create(_node("b", cpu="1"))
        pinned = make_pod("pinned", cpu="900m")
        pinned = msgspec.structs.replace(
            pinned, spec=msgspec.structs.replace(pinned.spec, node_name="a")
        )
        await h.client.create(pinned)
        _start_scheduler(h)
        await h.client.create(make_pod("p", cpu="500m"))
        pods = await wait_for(h.client, Pod, _all_bound)
        assert {p.metadata.name: p.spec.node_name for p in pods} == {"pinned": "a", "p": "b"}


async def test_finished_pods_free_their_resources(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a", cpu="1"))
        scheduler = _start_scheduler(h)
        await h.client.create(make_pod("job", cpu="800m"))
        [job] = await wait_for(h.client, Pod, _all_bound)
        await h.client.create(make_pod("next", cpu="800m"))
        await _snapshot_when(scheduler, lambda s: s.unschedulable == ["default/next"])
        done = msgspec.structs.replace(
            job, status=msgspec.structs.replace(job.status, phase="Succeeded")
        )
        await h.client.update(done)
        pods = await wait_for(h.client, Pod, _all_bound)
        assert {p.metadata.name: p.spec.node_name for p in pods} == {"job": "a", "next": "a"}


async def test_an_unschedulable_pod_gets_the_condition_and_an_event(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a", cpu="1"))
        await h.client.create(_node("b", cpu="1"))
        _start_scheduler(h)
        await h.client.create(make_pod("huge", cpu="2"))
        expected = (
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available:"
            " 2 No preemption victims found for incoming pod."
        )

        def marked(pods: list[Pod]) -> bool:
            return any(
                c.type == "PodScheduled"
                and c.status == "False"
                and c.reason == "Unschedulable"
                and c.message == expected
                for c in pods[0].status.conditions
            )

        await wait_for(h.client, Pod, marked)
        events = await wait_for(h.client, Event, lambda events: len(events) == 1)
        assert events[0].reason == "FailedScheduling"
        assert events[0].message == expected
        assert events[0].involved_object.name == "huge"


def _with_priority(pod: Pod, priority: int) -> Pod:
    spec = msgspec.structs.replace(pod.spec, priority_class_name=f"p{priority}")
    return msgspec.structs.replace(pod, spec=spec)


async def _priority_classes(h: Harness, *values: int) -> None:
    for value in values:
        await h.client.create(PriorityClass(metadata=ObjectMeta(name=f"p{value}"), value=value))


async def test_a_higher_priority_pod_preempts_a_lower_one(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a", cpu="1"))
        await _priority_classes(h, 1, 10, 100)
        scheduler = h.system.spawn(
            lambda: Scheduler(h.client, preemption_grace_seconds=0), name="scheduler"
        )
        await h.client.create(_with_priority(make_pod("low", cpu="800m"), 1))
        await h.client.create(_with_priority(make_pod("spare", cpu="100m"), 100))
        await wait_for(h.client, Pod, lambda pods: len(pods) == 2 and _all_bound(pods))
        await h.client.create(_with_priority(make_pod("high", cpu="800m"), 10))
        pods = await wait_for(
            h.client,
            Pod,
            lambda pods: {p.metadata.name for p in pods} == {"spare", "high"} and _all_bound(pods),
        )
        high = next(p for p in pods if p.metadata.name == "high")
        assert high.spec.node_name == "a"
        assert (await scheduler.ask(Inspect)).preemptions == 1


async def test_no_victims_means_no_preemption(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a", cpu="1"))
        await _priority_classes(h, 10)
        scheduler = _start_scheduler(h)
        await h.client.create(_with_priority(make_pod("first", cpu="800m"), 10))
        await wait_for(h.client, Pod, _all_bound)
        await h.client.create(_with_priority(make_pod("equal", cpu="800m"), 10))
        snapshot = await _snapshot_when(scheduler, lambda s: s.unschedulable == ["default/equal"])
        assert snapshot.preemptions == 0
        pods = await wait_for(
            h.client,
            Pod,
            lambda pods: any(
                "No preemption victims" in c.message for p in pods for c in p.status.conditions
            ),
        )
        assert len(pods) == 2


async def test_a_preemptor_keeps_the_room_its_terminating_victims_leave(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a", cpu="1"))
        await _priority_classes(h, 1, 5, 10)
        # No kubelet here: a victim deleted with a grace period stays terminating.
        scheduler = h.system.spawn(
            lambda: Scheduler(h.client, preemption_grace_seconds=30), name="scheduler"
        )
        await h.client.create(_with_priority(make_pod("low", cpu="800m"), 1))
        await wait_for(h.client, Pod, _all_bound)
        await h.client.create(_with_priority(make_pod("high", cpu="800m"), 10))
        await wait_for(
            h.client,
            Pod,
            lambda pods: (
                any(p.status.nominated_node_name == "a" for p in pods)
                and any(p.metadata.deletion_timestamp for p in pods)
            ),
        )
        # The victim was told why it goes before it was deleted, as upstream.
        victim = await h.client.get(Pod, "low")
        assert victim.metadata.deletion_timestamp
        conditions = {c.type: c for c in victim.status.conditions}
        assert conditions["DisruptionTarget"].status == "True"
        assert conditions["DisruptionTarget"].reason == "PreemptionByScheduler"
        assert conditions["DisruptionTarget"].message == (
            "default-scheduler: preempting to accommodate a higher priority pod"
        )
        assert conditions["DisruptionTarget"].last_transition_time
        # 200m are free on "a", but the preemptor will need them: "mid" waits.
        await h.client.create(_with_priority(make_pod("mid", cpu="150m"), 5))
        await _snapshot_when(scheduler, lambda s: "default/mid" in s.unschedulable)
        # Retried while its victim terminates (a node change sends it back to the
        # active queue), the preemptor takes no more victims.
        node = await h.client.get(Node, "a")
        labelled = msgspec.structs.replace(
            node.metadata, labels={**node.metadata.labels, "retry": "now"}
        )
        await h.client.update(msgspec.structs.replace(node, metadata=labelled))
        pods = await wait_for(
            h.client,
            Pod,
            lambda pods: any(
                "not eligible due to a terminating pod on the nominated node" in c.message
                for p in pods
                for c in p.status.conditions
            ),
        )
        assert not next(p for p in pods if p.metadata.name == "mid").spec.node_name
        assert (await scheduler.ask(Inspect)).preemptions == 1
        await h.client.delete(Pod, "low", grace_period_seconds=0)
        pods = await wait_for(
            h.client, Pod, lambda pods: len(pods) == 2 and _all_bound(pods), timeout=20
        )
        assert {p.metadata.name: p.spec.node_name for p in pods} == {"high": "a", "mid": "a"}


async def test_labelling_a_namespace_lets_a_namespace_selector_match(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_node("a"))
        await h.client.create(Namespace(metadata=ObjectMeta(name="prod")))
        _start_scheduler(h)
        db = make_pod("db", namespace="prod")
        db = msgspec.structs.replace(
            db, metadata=msgspec.structs.replace(db.metadata, labels={"app": "db"})
        )
        await h.client.create(db)
        term = {
            "labelSelector": {"matchLabels": {"app": "db"}},
            "namespaceSelector": {"matchLabels": {"team": "a"}},
            "topologyKey": "kubernetes.io/hostname",
        }
        web = msgspec.convert(
            {
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "containers": [{"name": "app", "image": "busybox"}],
                    "affinity": {
                        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
                    },
                },
            },
            Pod,
        )
        await h.client.create(web)
        await wait_for(
            h.client,
            Pod,
            lambda pods: any(
                "didn't match pod affinity rules" in c.message
                for p in pods
                for c in p.status.conditions
            ),
        )
        prod = await h.client.get(Namespace, "prod")
        labelled = msgspec.structs.replace(prod.metadata, labels={"team": "a"})
        await h.client.update(msgspec.structs.replace(prod, metadata=labelled))
        pods = await wait_for(h.client, Pod, lambda pods: len(pods) == 2 and _all_bound(pods))
        assert {p.spec.node_name for p in pods} == {"a"}
