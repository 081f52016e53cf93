from collections import defaultdict
from pathlib import Path

import pytest

from kubeactors import Cluster
from kubeactors.api import node_allocatable, pod_requests
from kubeactors.node import NodeShape


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
