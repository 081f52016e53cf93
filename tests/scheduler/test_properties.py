"""End-to-end properties of the scheduler actor over random clusters."""

import tempfile
from pathlib import Path

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.api import Node, NodeStatus, ObjectMeta, Pod, node_allocatable, pod_requests
from kubeactors.scheduler import Inspect, Scheduler

from ..api.harness import make_pod, running_api

nodes = st.lists(
    st.tuples(st.integers(100, 4000), st.integers(64, 4096), st.integers(1, 8)),
    min_size=1,
    max_size=5,
)
pods = st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 2048)), min_size=1, max_size=25)


async def _schedule(
    path: Path, node_sizes: list[tuple[int, int, int]], pod_sizes: list[tuple[int, int]]
) -> tuple[list[Node], list[Pod]]:
    async with running_api(path) as h:
        for index, (cpu, memory, count) in enumerate(node_sizes):
            resources = {"cpu": f"{cpu}m", "memory": f"{memory}Mi", "pods": str(count)}
            await h.client.create(
                Node(metadata=ObjectMeta(name=f"n{index}"), status=NodeStatus(capacity=resources))
            )
        scheduler = h.system.spawn(lambda: Scheduler(h.client), name="scheduler")
        for index, (cpu, memory) in enumerate(pod_sizes):
            await h.client.create(make_pod(f"p{index}", cpu=f"{cpu}m", memory=f"{memory}Mi"))
        with anyio.fail_after(20):
            while True:  # until every pod is bound and stored, or waits for room
                snapshot = await scheduler.ask(Inspect)
                settled = snapshot.bound + len(snapshot.unschedulable) == len(pod_sizes)
                if settled and snapshot.queued == 0:
                    break
                await anyio.sleep(0.005)
        return (await h.client.list(Node)).items, (await h.client.list(Pod)).items


@settings(max_examples=15)
@given(nodes, pods)
def test_never_overcommits_and_only_waits_when_nothing_fits(
    node_sizes: list[tuple[int, int, int]], pod_sizes: list[tuple[int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        stored_nodes, stored_pods = anyio.run(_schedule, Path(directory), node_sizes, pod_sizes)
    free = {node.metadata.name: list(node_allocatable(node)) for node in stored_nodes}
    waiting = []
    for pod in stored_pods:
        request = pod_requests(pod)
        if not pod.spec.node_name:
            waiting.append(request)
            continue
        room = free[pod.spec.node_name]
        for resource, amount in enumerate(request):
            room[resource] -= amount
    assert all(amount >= 0 for room in free.values() for amount in room)
    for request in waiting:
        assert not any(
            all(room[r] >= amount for r, amount in enumerate(request)) for room in free.values()
        )
