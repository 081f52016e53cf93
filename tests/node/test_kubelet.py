import ipaddress
from pathlib import Path
from typing import Literal

import msgspec
import pytest

from kubeactors.api import Lease, Node, NodeStatus, ObjectMeta, Pod, Taint, Toleration
from kubeactors.node import LEASE_NAMESPACE, NodeSettings, NodeShape, host_ip, pod_cidr
from kubeactors.node._dispatch import _judged_by
from kubeactors.node._node_status import node_conditions

from ..api.harness import FIXED_TIME, Harness, make_pod, running_api, wait_for
from ._nodes import FAST, Nodes, change_node, wait_for_objects


def _bound_to(name: str, node: str) -> Pod:
    pod = make_pod(name)
    return msgspec.structs.replace(pod, spec=msgspec.structs.replace(pod.spec, node_name=node))


async def test_kubelet_registers_its_node(tmp_path: Path) -> None:
    settings = msgspec.structs.replace(
        FAST,
        labels={"topology.kubernetes.io/zone": "zone-a"},
        taints=[Taint(key="dedicated", value="gpu", effect="NoSchedule")],
        system_reserved={"cpu": "500m", "memory": "1Gi"},
    )
    async with running_api(tmp_path) as h:
        nodes = Nodes(h, settings)
        for index in range(2):
            nodes.start(index, shape=NodeShape(cpu="8", memory="32Gi", pods=50))
        registered = await wait_for(h.client, Node, lambda nodes: len(nodes) == 2)
        node = next(n for n in registered if n.metadata.name == "node-1")
        assert node.status.capacity == {"cpu": "8", "memory": "32Gi", "pods": "50"}
        assert node.status.allocatable == {"cpu": "7500m", "memory": "31Gi", "pods": "50"}
        assert node.spec.pod_cidr == "10.0.1.0/24"
        assert node.spec.taints == settings.taints
        conditions = {c.type: (c.status, c.reason) for c in node.status.conditions}
        assert conditions == {
            "MemoryPressure": ("False", "KubeletHasSufficientMemory"),
            "DiskPressure": ("False", "KubeletHasNoDiskPressure"),
            "PIDPressure": ("False", "KubeletHasSufficientPID"),
            "Ready": ("True", "KubeletReady"),
        }
        assert node.status.addresses[0].address == str(host_ip(1))
        labels = node.metadata.labels
        assert labels["kubernetes.io/hostname"] == "node-1"
        assert labels["topology.kubernetes.io/zone"] == "zone-a"
        assert node.status.node_info is not None
        assert node.status.node_info.container_runtime_version.startswith("simulated://")


async def test_heartbeats_renew_a_lease_per_node(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        nodes = Nodes(h)
        for index in range(3):
            nodes.start(index)
        leases = await wait_for_objects(h, Lease, lambda leases: len(leases) == 3)
        lease = next(lease for lease in leases if lease.metadata.name == "node-2")
        assert lease.metadata.namespace == LEASE_NAMESPACE
        assert lease.spec.holder_identity == "node-2"
        assert lease.spec.lease_duration_seconds == 40
        # Renewed every 0.2 s here: a newer version of the same lease shows up, twice
        # (the second renewal is made from the first one sent).
        for _ in range(2):
            since = int(lease.metadata.resource_version)

            def renewed_since(leases: list[Lease], since: int = since) -> bool:
                return any(
                    le.metadata.name == "node-2" and int(le.metadata.resource_version) > since
                    for le in leases
                )

            leases = await wait_for_objects(h, Lease, renewed_since)
            renewed = next(le for le in leases if le.metadata.name == "node-2")
            assert (renewed.metadata.namespace, renewed.spec.holder_identity) == (
                LEASE_NAMESPACE,
                "node-2",
            )
            assert renewed.spec.lease_duration_seconds == 40
            assert renewed.spec.renew_time == FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            lease = renewed


async def test_kubelet_runs_only_the_pods_bound_to_it(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        nodes = Nodes(h)
        for index in range(2):
            nodes.start(index)
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
            [status] = pod.status.container_statuses
            assert status.name == "app"
            assert status.ready
            assert status.started
            assert status.restart_count == 0
            assert status.container_id.startswith("simulated://")
            assert status.image == "busybox"
            assert status.image_id.startswith("busybox@sha256:")
            assert status.state.running is not None
            assert status.state.running.started_at == "2026-01-02T03:04:05Z"
        assert len({pod.status.pod_ip for pod in running}) == 3


async def test_pods_bound_before_the_kubelet_starts_are_run(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_bound_to("early", "node-0"))
        Nodes(h).start(0)
        pods = await wait_for(h.client, Pod, lambda pods: pods[0].status.phase == "Running")
        assert pods[0].status.pod_ip == "10.0.0.2"


def test_node_shape_and_settings_reject_bad_values_by_field() -> None:
    with pytest.raises(ValueError, match="node shape cpu"):
        NodeShape(cpu="lots")
    with pytest.raises(ValueError, match="node shape memory: must be positive"):
        NodeShape(memory="0")
    with pytest.raises(ValueError, match="node shape pods"):
        NodeShape(pods=1000)
    with pytest.raises(ValueError, match="node index"):
        pod_cidr(70_000)
    with pytest.raises(ValueError, match="lease_seconds"):
        NodeSettings(lease_seconds=0)
    with pytest.raises(ValueError, match="root_dir"):
        NodeSettings(runtime="process")
    assert str(pod_cidr(0, loopback=True)) == "127.0.1.0/24"


async def test_all_kubelets_share_the_dispatchers_watches(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        nodes = Nodes(h)
        for index in range(20):
            nodes.start(index)
        await wait_for(h.client, Node, lambda nodes: len(nodes) == 20)
        for index in range(20):
            await h.client.create(_bound_to(f"p{index}", f"node-{index}"))
        await wait_for(h.client, Pod, lambda pods: all(p.status.phase == "Running" for p in pods))
        # The waits above closed their watches: what is left is the dispatcher's
        # three (pods, nodes, and Services for the containers' variables).
        assert (await h.store.status()).watchers == 3


async def _seen_by_its_kubelet(h: Harness, written: Node) -> None:
    """Wait for a status post of the node's kubelet made after `written`: the kubelet
    posts the Node it last saw, so a later post that keeps the change has seen it."""
    version = int(written.metadata.resource_version)
    await wait_for(
        h.client,
        Node,
        lambda nodes: (
            int(nodes[0].metadata.resource_version) > version
            and nodes[0].status.allocatable == written.status.allocatable
            and nodes[0].spec.taints == written.spec.taints
        ),
    )


async def test_the_kubelet_admits_against_the_allocatable_it_last_saw(tmp_path: Path) -> None:
    """The kubelet keeps its node's allocatable between updates that leave it alone; a
    change to it is taken in (here: room for one pod only)."""
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        await wait_for(h.client, Node, lambda nodes: len(nodes) == 1)

        def with_room_for_one_pod(node: Node) -> Node:
            allocatable = {**node.status.allocatable, "pods": "1"}
            status = msgspec.structs.replace(node.status, allocatable=allocatable)
            return msgspec.structs.replace(node, status=status)

        written = await change_node(h, "node-0", with_room_for_one_pod, status=True)
        await _seen_by_its_kubelet(h, written)
        await h.client.create(_bound_to("first", "node-0"))
        await wait_for(h.client, Pod, lambda pods: pods[0].status.phase == "Running")
        await h.client.create(_bound_to("second", "node-0"))
        pods = await wait_for(
            h.client, Pod, lambda pods: any(p.status.phase == "Failed" for p in pods)
        )
        [rejected] = [p for p in pods if p.status.phase == "Failed"]
        assert (rejected.metadata.name, rejected.status.reason) == ("second", "OutOfpods")


async def test_a_no_execute_taint_evicts_the_pods_that_do_not_tolerate_it(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        await wait_for(h.client, Node, lambda nodes: len(nodes) == 1)
        tolerant = _bound_to("tolerant", "node-0")
        toleration = Toleration(key="dedicated", operator="Exists", effect="NoExecute")
        pod_spec = msgspec.structs.replace(tolerant.spec, tolerations=[toleration])
        await h.client.create(msgspec.structs.replace(tolerant, spec=pod_spec))
        await h.client.create(_bound_to("intolerant", "node-0"))
        await wait_for(h.client, Pod, lambda pods: all(p.status.phase == "Running" for p in pods))
        effects: tuple[Literal["NoSchedule"], Literal["NoExecute"]] = ("NoSchedule", "NoExecute")
        for effect in effects:
            taint = Taint(key="dedicated", value="x", effect=effect)

            def tainted(node: Node, taint: Taint = taint) -> Node:
                spec = msgspec.structs.replace(node.spec, taints=[*node.spec.taints, taint])
                return msgspec.structs.replace(node, spec=spec)

            written = await change_node(h, "node-0", tainted)
            await _seen_by_its_kubelet(h, written)
            names = {p.metadata.name for p in (await h.client.list(Pod)).items}
            if effect == "NoSchedule":
                assert names == {"tolerant", "intolerant"}
        pods = await wait_for(h.client, Pod, lambda pods: len(pods) == 1)
        assert pods[0].metadata.name == "tolerant"


async def test_a_lease_taken_over_is_renewed_again_by_its_node(tmp_path: Path) -> None:
    """Another writer changes a node's Lease: the node's next renewal conflicts, the
    hub reads the Lease again and renews it as its node's own, from then on."""
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        [lease] = await wait_for_objects(h, Lease, lambda leases: len(leases) == 1)
        spec = msgspec.structs.replace(lease.spec, holder_identity="someone-else")
        taken = await h.client.update(msgspec.structs.replace(lease, spec=spec))
        since = int(taken.metadata.resource_version)

        def renewed_twice_since(leases: list[Lease]) -> bool:
            return int(leases[0].metadata.resource_version) > since + 1

        [renewed] = await wait_for_objects(h, Lease, renewed_twice_since)
        assert renewed.spec.holder_identity == "node-0"
        assert renewed.metadata.uid == lease.metadata.uid


async def test_status_posts_follow_the_node_as_stored(tmp_path: Path) -> None:
    """A kubelet is not handed its own status posts coming back, yet each post is
    made over the version stored last (none conflicts): the node is written again and
    again, by its kubelet alone."""
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        [node] = await wait_for(h.client, Node, lambda nodes: len(nodes) == 1)
        versions = [int(node.metadata.resource_version)]
        for _ in range(3):
            since = versions[-1]

            def newer(nodes: list[Node], since: int = since) -> bool:
                return int(nodes[0].metadata.resource_version) > since

            [node] = await wait_for(h.client, Node, newer)
            versions.append(int(node.metadata.resource_version))
        assert versions == sorted(set(versions))


def test_a_kubelet_is_told_of_changes_to_what_it_judges_pods_by() -> None:
    node = Node(
        metadata=ObjectMeta(name="n", labels={"zone": "a"}, resource_version="1"),
        status=NodeStatus(allocatable={"pods": "110"}, conditions=[]),
    )
    posted = msgspec.structs.replace(
        node,
        metadata=msgspec.structs.replace(node.metadata, resource_version="2"),
        status=msgspec.structs.replace(node.status, conditions=node_conditions([], "t")),
    )
    assert not _judged_by(node, posted)
    relabelled = msgspec.structs.replace(
        node, metadata=msgspec.structs.replace(node.metadata, labels={"zone": "b"})
    )
    tainted = msgspec.structs.replace(
        node, spec=msgspec.structs.replace(node.spec, taints=[Taint(key="k", effect="NoExecute")])
    )
    shrunk = msgspec.structs.replace(
        node, status=msgspec.structs.replace(node.status, allocatable={"pods": "1"})
    )
    for changed in (relabelled, tainted, shrunk):
        assert _judged_by(node, changed)
