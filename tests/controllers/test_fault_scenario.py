"""End to end: nodes stop heartbeating, their pods move, the nodes come back."""

import contextlib
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import msgspec

from kubeactors import Cluster
from kubeactors.api import (
    ApiError,
    Container,
    Deployment,
    DeploymentSpec,
    LabelSelector,
    Lease,
    Node,
    NodeCondition,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ResourceRequirements,
    Toleration,
)
from kubeactors.client import Client, Informer
from kubeactors.controllers import ControllerManagerSettings, NodeLifecycleSettings
from kubeactors.controllers._taints import UNREACHABLE
from kubeactors.node import NodeSettings, Untrack

from .faults import running_informer, wait_for

NODES = 50
REPLICAS = 200
DEAD = {f"node-{i}" for i in range(10)}
_beats = itertools.count()


def _stamp() -> str:
    return f"2026-01-01T00:00:00.{next(_beats):06d}Z"


def _deployment() -> Deployment:
    toleration = Toleration(
        key=UNREACHABLE, operator="Exists", effect="NoExecute", toleration_seconds=1
    )
    container = Container(
        name="app",
        image="registry.k8s.io/pause:3.9",
        resources=ResourceRequirements(requests={"cpu": "10m", "memory": "16Mi"}),
    )
    labels = {"app": "web"}
    return Deployment(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=DeploymentSpec(
            replicas=REPLICAS,
            selector=LabelSelector(match_labels=labels),
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=labels),
                spec=PodSpec(containers=[container], tolerations=[toleration]),
            ),
        ),
    )


@asynccontextmanager
async def kubelets_return(client: Client, names: set[str]) -> AsyncIterator[None]:
    """The silenced nodes' kubelets come back: they renew their Leases every 0.2 s."""

    async def renew() -> None:
        while True:
            for name in sorted(names):
                lease = await client.get(Lease, name, "kube-node-lease")
                spec = msgspec.structs.replace(lease.spec, renew_time=_stamp())
                with contextlib.suppress(ApiError):
                    await client.update(msgspec.structs.replace(lease, spec=spec))
            await anyio.sleep(0.2)

    async with anyio.create_task_group() as group:
        group.start_soon(renew)
        yield
        group.cancel_scope.cancel()


def _live(pod: Pod) -> bool:
    return pod.metadata.deletion_timestamp is None and pod.status.phase not in (
        "Succeeded",
        "Failed",
    )


async def _post_ready(client: Client, name: str) -> None:
    """What a kubelet that comes back does: post Ready=True with a fresh heartbeat."""
    while True:
        node = await client.get(Node, name)
        ready = NodeCondition(type="Ready", status="True", last_heartbeat_time=_stamp())
        conditions = [c for c in node.status.conditions if c.type != "Ready"] + [ready]
        status = msgspec.structs.replace(node.status, conditions=conditions)
        try:
            await client.update(msgspec.structs.replace(node, status=status))
            return
        except ApiError as error:
            if error.code != 409:
                raise


async def test_pods_leave_silent_nodes_and_the_nodes_are_untainted_on_return() -> None:
    settings = ControllerManagerSettings(
        leader_elect=False,
        node_lifecycle=NodeLifecycleSettings(
            grace_period=2.0, monitor_period=0.2, eviction_qps=100.0
        ),
    )
    node_settings = NodeSettings(lease_seconds=0.2, status_seconds=0.5)
    async with Cluster(nodes=NODES, controllers=settings, node_settings=node_settings) as cluster:
        client = cluster.client
        hub = cluster.heartbeat
        assert hub is not None
        pods: Informer[Pod] = Informer(client, Pod)
        most: list[int] = [0]

        async def observe(_: object) -> None:
            most.append(sum(1 for pod in pods.items() if _live(pod)))

        pods.add_batch_handler(observe)
        async with running_informer(pods):
            await client.create(_deployment())
            await cluster.wait_until_running(REPLICAS, timeout=60)
            assert {p.spec.node_name for p in await cluster.pods()} & DEAD
            for name in sorted(DEAD):
                await hub.tell(Untrack(name))

            def recovered(items: list[Pod]) -> bool:
                running = [p for p in items if _live(p) and p.status.phase == "Running"]
                return len(running) == REPLICAS and not any(p.spec.node_name in DEAD for p in items)

            await wait_for(client, Pod, recovered, timeout=60)
            final = [p for p in await cluster.pods() if _live(p)]
            assert len(final) == REPLICAS
            assert len({p.metadata.name for p in final}) == REPLICAS
            assert max(most) <= REPLICAS
            nodes = await cluster.nodes()
            assert all(
                any(t.key == UNREACHABLE for t in n.spec.taints)
                for n in nodes
                if n.metadata.name in DEAD
            )
        async with kubelets_return(client, DEAD):
            for name in sorted(DEAD):
                await _post_ready(client, name)
            await wait_for(
                client, Node, lambda nodes: not any(n.spec.taints for n in nodes), timeout=30
            )
