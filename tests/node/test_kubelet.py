import ipaddress
from pathlib import Path

import msgspec
import pytest

from kubeactors.api import Node, Pod
from kubeactors.node import Kubelet, NodeShape, PodDispatcher, host_ip, pod_cidr

from ..api.harness import FIXED_TIME, Harness, make_pod, running_api, wait_for


def _start_nodes(h: Harness, count: int, shape: NodeShape | None = None) -> None:
    dispatcher = h.system.spawn(lambda: PodDispatcher(h.client), name="pod-dispatcher")
    for index in range(count):

        def make(index: int = index) -> Kubelet:
            return Kubelet(
                h.client,
                dispatcher,
                name=f"node-{index}",
                index=index,
                shape=shape or NodeShape(),
                wall_clock=lambda: FIXED_TIME,
            )

        h.system.spawn(make, name=f"node-{index}")


def _bound_to(name: str, node: str) -> Pod:
    pod = make_pod(name)
    return msgspec.structs.replace(pod, spec=msgspec.structs.replace(pod.spec, node_name=node))


async def test_kubelet_registers_its_node(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        _start_nodes(h, 2, NodeShape(cpu="8", memory="32Gi", pods=50))
        nodes = await wait_for(h.client, Node, lambda nodes: len(nodes) == 2)
        node = next(n for n in nodes if n.metadata.name == "node-1")
        assert node.status.capacity == {"cpu": "8", "memory": "32Gi", "pods": "50"}
        assert node.status.allocatable == node.status.capacity
        assert node.spec.pod_cidr == "10.0.1.0/24"
        assert [c.type for c in node.status.conditions] == ["Ready"]
        assert node.status.addresses[0].address == str(host_ip(1))
        assert node.metadata.labels["kubernetes.io/hostname"] == "node-1"


async def test_kubelet_runs_only_the_pods_bound_to_it(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        _start_nodes(h, 2)
        await wait_for(h.client, Node, lambda nodes: len(nodes) == 2)
        await h.client.create(_bound_to("a", "node-0"))
        await h.client.create(_bound_to("b", "node-0"))
        await h.client.create(_bound_to("c", "node-1"))
        await h.client.create(_bound_to("elsewhere", "no-such-node"))
        await h.client.create(make_pod("unbound"))
        pods = await wait_for(
            h.client,
            Pod,
            lambda pods: sum(p.status.phase == "Running" for p in pods) == 3,
        )
        by_name = {p.metadata.name: p for p in pods}
        assert by_name["elsewhere"].status.phase == "Pending"
        assert by_name["unbound"].status.phase == "Pending"
        running = [by_name[name] for name in ("a", "b", "c")]
        for pod in running:
            index = int(pod.spec.node_name.split("-")[1])
            assert ipaddress.ip_address(pod.status.pod_ip) in pod_cidr(index)
            assert pod.status.host_ip == str(host_ip(index))
            assert pod.status.start_time == "2026-01-02T03:04:05Z"
            assert {c.type: c.status for c in pod.status.conditions} == {
                "PodScheduled": "True",
                "Initialized": "True",
                "ContainersReady": "True",
                "Ready": "True",
            }
        assert len({pod.status.pod_ip for pod in running}) == 3


async def test_pods_bound_before_the_kubelet_starts_are_run(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_bound_to("early", "node-0"))
        _start_nodes(h, 1)
        pods = await wait_for(h.client, Pod, lambda pods: pods[0].status.phase == "Running")
        assert pods[0].status.pod_ip == "10.0.0.2"


def test_node_shape_rejects_bad_values_by_field() -> None:
    with pytest.raises(ValueError, match="node shape cpu"):
        NodeShape(cpu="lots")
    with pytest.raises(ValueError, match="node shape memory: must be positive"):
        NodeShape(memory="0")
    with pytest.raises(ValueError, match="node shape pods"):
        NodeShape(pods=1000)
    with pytest.raises(ValueError, match="node index"):
        pod_cidr(70_000)


async def test_all_kubelets_share_one_watch(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        _start_nodes(h, 20)
        await wait_for(h.client, Node, lambda nodes: len(nodes) == 20)
        for index in range(20):
            await h.client.create(_bound_to(f"p{index}", f"node-{index}"))
        await wait_for(h.client, Pod, lambda pods: all(p.status.phase == "Running" for p in pods))
        # The waits above closed their watches: what is left is the dispatcher's.
        assert (await h.store.status()).watchers == 1
