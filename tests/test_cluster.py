from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from kubeactors import Cluster
from kubeactors.api import Node, node_allocatable, pod_requests
from kubeactors.node import NodeSettings, NodeShape


async def test_hundred_pods_on_ten_nodes_all_run_and_no_node_is_overcommitted() -> None:
    shape = NodeShape(cpu="2", memory="4Gi", pods=20)
    async with Cluster(nodes=10, node_shape=shape, seed=1) as cluster:
        created = await cluster.create_pods(100, cpu="150m", memory="300Mi")
        assert len({pod.metadata.name for pod in created}) == 100
        await cluster.wait_until_running(100, timeout=60)
        pods = await cluster.pods()
        nodes = {node.metadata.name: node for node in await cluster.nodes()}
    assert len(nodes) == 10
    assert len(pods) == 100
    assert all(pod.status.phase == "Running" for pod in pods)
    used: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for pod in pods:
        assert pod.spec.node_name in nodes
        request = pod_requests(pod)
        totals = used[pod.spec.node_name]
        totals[0] += request.cpu_millis
        totals[1] += request.memory_bytes
        totals[2] += 1
    for name, (cpu, memory, count) in used.items():
        allocatable = node_allocatable(nodes[name])
        assert cpu <= allocatable.cpu_millis
        assert memory <= allocatable.memory_bytes
        assert count <= allocatable.pods
    # 2 cores / 150m leaves room for 13 pods a node: the pods must have spread.
    assert len(used) >= 8


async def test_pods_that_fit_nowhere_wait_and_the_wait_times_out() -> None:
    async with Cluster(nodes=2, node_shape=NodeShape(cpu="1", memory="1Gi")) as cluster:
        await cluster.create_pods(3, cpu="600m", memory="100Mi")
        await cluster.wait_until_running(2, timeout=30)
        with pytest.raises(TimeoutError, match="3 pods Running"):
            await cluster.wait_until_running(3, timeout=0.3)
        snapshot = await cluster.scheduler_snapshot()
        assert len(snapshot.unschedulable) == 1


async def test_data_dir_keeps_the_store_across_clusters(tmp_path: Path) -> None:
    async with Cluster(nodes=1, data_dir=tmp_path) as cluster:
        await cluster.create_pods(2)
        await cluster.wait_until_running(2, timeout=30)
    async with Cluster(nodes=1, data_dir=tmp_path) as cluster:
        pods = await cluster.pods()
        assert len(pods) == 2
        assert all(pod.status.phase == "Running" for pod in pods)
        # The new kubelet adopts the running pods' addresses and gives out others.
        await cluster.create_pods(2)
        await cluster.wait_until_running(4, timeout=30)
        addresses = [pod.status.pod_ip for pod in await cluster.pods()]
        assert len(set(addresses)) == 4


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="nodes must not be negative"):
        Cluster(nodes=-1)
    with pytest.raises(ValueError, match="store_latency must not be negative"):
        Cluster(store_latency=-1.0)


def _ready(node: Node) -> str:
    return next((c.status for c in node.status.conditions if c.type == "Ready"), "")


async def _until(cluster: Cluster, what: Callable[[], Awaitable[bool]], limit: float) -> float:
    """Poll `what` every virtual second; the virtual seconds it took to hold."""
    start = cluster.clock.now()
    while not await what():
        if cluster.clock.now() - start > limit:
            raise TimeoutError(f"not within {limit} virtual seconds")
        await cluster.clock.sleep(1.0)
    return cluster.clock.now() - start


async def test_added_nodes_carry_their_own_shape_and_labels() -> None:
    async with Cluster(nodes=1, clock="virtual") as cluster:
        settings = NodeSettings(labels={"topology.kubernetes.io/zone": "b"})
        names = await cluster.add_nodes(2, shape=NodeShape(cpu="8"), settings=settings)
        nodes = {node.metadata.name: node for node in await cluster.nodes()}
    assert names == ["node-1", "node-2"]
    assert cluster.node_names == ["node-0", "node-1", "node-2"]
    assert nodes["node-1"].status.capacity["cpu"] == "8"
    assert nodes["node-2"].metadata.labels["topology.kubernetes.io/zone"] == "b"
    assert "topology.kubernetes.io/zone" not in nodes["node-0"].metadata.labels


async def test_a_stopped_node_goes_unknown_its_pods_are_evicted_and_it_returns() -> None:
    async with Cluster(nodes=2, clock="virtual", seed=2) as cluster:
        await cluster.create_pods(6, cpu="100m", memory="64Mi")
        await cluster.wait_until_running(6)
        victim = next(pod.spec.node_name for pod in await cluster.pods())
        await cluster.stop_node(victim)

        async def silent() -> bool:
            node = next(n for n in await cluster.nodes() if n.metadata.name == victim)
            return _ready(node) == "Unknown"

        # Upstream's defaults: 40 s of silence, then 300 s of tolerated unreachability.
        assert await _until(cluster, silent, 120.0) >= 40.0

        async def evicted() -> bool:
            return all(
                p.metadata.deletion_timestamp is not None
                for p in await cluster.pods()
                if p.spec.node_name == victim
            )

        assert await _until(cluster, evicted, 900.0) >= 300.0
        await cluster.start_node(victim)

        async def back() -> bool:
            node = next(n for n in await cluster.nodes() if n.metadata.name == victim)
            return _ready(node) == "True" and not node.spec.taints

        await _until(cluster, back, 180.0)
        with pytest.raises(KeyError, match="node-9"):
            await cluster.stop_node("node-9")


async def test_a_partitioned_node_goes_unknown_and_is_ready_again_once_healed() -> None:
    async with Cluster(nodes=2, clock="virtual", seed=3) as cluster:
        await cluster.partition_node("node-1")

        async def state() -> str:
            node = next(n for n in await cluster.nodes() if n.metadata.name == "node-1")
            return _ready(node)

        async def unknown() -> bool:
            return await state() == "Unknown"

        await _until(cluster, unknown, 120.0)
        await cluster.heal_node("node-1")

        async def ready() -> bool:
            return await state() == "True"

        # The status is posted as the partition heals: no wait for the next round.
        assert await _until(cluster, ready, 30.0) <= 10.0


async def test_store_latency_delays_every_write_by_that_much_virtual_time() -> None:
    async with Cluster(nodes=0, clock="virtual", store_latency=0.0) as cluster:
        await cluster.create_pods(1)
        fast_start = cluster.clock.now()
        await cluster.create_pods(1)
        fast = cluster.clock.now() - fast_start
        await cluster.set_store_latency(2.5)
        slow_start = cluster.clock.now()
        await cluster.create_pods(3, concurrency=3)
        slow = cluster.clock.now() - slow_start
        await cluster.set_store_latency(0.0)
        assert len(await cluster.pods()) == 5
    assert fast < 0.1
    # Three writes in flight together wait once, not three times.
    assert 2.5 <= slow < 5.0


async def test_store_latency_needs_the_delaying_actor() -> None:
    async with Cluster(nodes=0, clock="virtual") as cluster:
        with pytest.raises(RuntimeError, match="store_latency"):
            await cluster.set_store_latency(1.0)
