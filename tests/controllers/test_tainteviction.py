"""NoExecute taints evict on the virtual clock: at once, after tolerationSeconds, or never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from kubeactors.api import Container, Node, ObjectMeta, Pod, PodSpec, Taint, Toleration
from kubeactors.cluster import Cluster
from kubeactors.controllers import ControllerManagerSettings
from kubeactors.controllers._taints import eviction_due
from kubeactors.controllers._time import format_time

MAINTENANCE = "example.com/maintenance"


def _pod(name: str, node: str, seconds: int | None = None, tolerate: bool = True) -> Pod:
    tolerations = (
        [Toleration(key=MAINTENANCE, operator="Exists", toleration_seconds=seconds)]
        if tolerate
        else []
    )
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=PodSpec(
            containers=[Container(name="app", image="busybox")],
            node_name=node,
            tolerations=tolerations,
        ),
    )


async def _set_taints(cluster: Cluster, name: str, taints: list[Taint]) -> None:
    node = await cluster.client.get(Node, name)
    spec = msgspec.structs.replace(node.spec, taints=taints)
    await cluster.client.update(msgspec.structs.replace(node, spec=spec))


async def _present(cluster: Cluster) -> set[str]:
    """The pods not (yet) being evicted."""
    return {p.metadata.name for p in await cluster.pods() if p.metadata.deletion_timestamp is None}


async def test_toleration_seconds_delay_eviction_and_a_removed_taint_cancels_it() -> None:
    settings = ControllerManagerSettings(controllers=("taint-eviction",))
    async with Cluster(nodes=2, clock="virtual", controllers=settings) as cluster:
        clock = cluster.clock
        pods = [
            _pod("intolerant", "node-0", tolerate=False),
            _pod("brief", "node-0", seconds=30),
            _pod("forever", "node-0"),
            _pod("reprieved", "node-1", seconds=60),
        ]
        for pod in pods:
            await cluster.client.create(pod)
        await cluster.wait_until_running(4)
        start = clock.now()
        # node-0's taint says when it was added; node-1's does not (first seen counts).
        stamped = Taint(key=MAINTENANCE, effect="NoExecute", time_added=format_time(clock.wall()))
        await _set_taints(cluster, "node-0", [stamped])
        await _set_taints(cluster, "node-1", [Taint(key=MAINTENANCE, effect="NoExecute")])

        await clock.sleep(1.0)
        assert await _present(cluster) == {"brief", "forever", "reprieved"}
        await clock.sleep_until(start + 29.0)
        assert await _present(cluster) == {"brief", "forever", "reprieved"}
        await _set_taints(cluster, "node-1", [])  # the maintenance on node-1 is called off
        await clock.sleep_until(start + 31.0)
        assert await _present(cluster) == {"forever", "reprieved"}
        await clock.sleep_until(start + 120.0)
        assert await _present(cluster) == {"forever", "reprieved"}
        names = {p.metadata.name for p in await cluster.pods()}
        assert "brief" not in names  # evicted gracefully, then removed by its kubelet


def test_each_taint_counts_from_when_it_was_added() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    old = Taint(key="old", effect="NoExecute")
    new = Taint(key="new", effect="NoExecute")
    added = {"old": t0, "new": t0 + timedelta(seconds=50)}
    pod = msgspec.structs.replace(
        _pod("p", "n"),
        spec=msgspec.structs.replace(
            _pod("p", "n").spec,
            tolerations=[
                Toleration(key="old", operator="Exists", toleration_seconds=60),
                Toleration(key="new", operator="Exists"),
            ],
        ),
    )
    # The tolerated-for-ever taint added later does not push back the other's deadline.
    assert eviction_due(pod, [old, new], 300, lambda t: added[t.key]) == t0 + timedelta(seconds=60)
    assert eviction_due(pod, [new], 300, lambda t: added[t.key]) is None
    # A NoSchedule taint never evicts; an untolerated NoExecute one does at once.
    other = Taint(key="other", effect="NoExecute")
    assert eviction_due(pod, [Taint(key="x", effect="NoSchedule")], 300, lambda t: t0) is None
    assert eviction_due(pod, [old, other], 300, lambda t: t0) == t0
