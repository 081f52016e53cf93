"""Clusters over one etcd run one scheduler between them: the holder of the Lease
`kube-system/kube-scheduler`; another takes over when the holder goes."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from kubeactors import LeaderElection
from kubeactors.api import Container, Lease, ObjectMeta, Pod, PodSpec
from kubeactors.cluster import Cluster

from .etcd_cluster import EtcdCluster, etcd_available


@pytest.fixture
def etcd() -> Iterator[EtcdCluster]:
    if not etcd_available():
        pytest.skip("etcd is not installed (apt-get install -y etcd-server)")
    with EtcdCluster(1) as cluster:
        yield cluster


def _cluster(url: str, identity: str, *, nodes: int) -> Cluster:
    # A renew deadline that a loaded machine (the whole suite on two cores) cannot
    # miss by accident: a leader that lost its Lease mid-test would fail it for nothing.
    election = LeaderElection(identity, lease_duration=5.0, renew_deadline=4.0, retry_period=0.25)
    return Cluster(nodes=nodes, store=url, controllers=False, scheduler_election=election)


def _pod(name: str) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=PodSpec(containers=[Container(name="app", image="nginx")]),
    )


async def _hold(cluster: Cluster, ready: anyio.Event, stop: anyio.Event) -> None:
    """Run `cluster` in a task of its own until `stop` (its process ending, say)."""
    async with cluster:
        ready.set()
        await stop.wait()


async def test_one_scheduler_leads_and_another_takes_over(etcd: EtcdCluster) -> None:
    url = etcd.url()
    a, b = _cluster(url, "a", nodes=2), _cluster(url, "b", nodes=0)
    a_ready, a_stop = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(_hold, a, a_ready, a_stop)
        await a_ready.wait()
        async with b:
            lease = await a.client.get(Lease, "kube-scheduler", "kube-system")
            assert lease.spec.holder_identity == "a"
            with pytest.raises(RuntimeError, match="another process leads"):
                await b.scheduler_snapshot()
            await a.client.create(_pod("first"))
            await a.wait_until_running(1, timeout=30)
            assert (await a.scheduler_snapshot()).scheduled == 1
            # The leader's process ends: the other takes the Lease and schedules.
            a_stop.set()
            for _ in range(200):
                try:
                    await b.scheduler_snapshot()
                    break
                except RuntimeError:
                    await anyio.sleep(0.1)
            await b.client.create(_pod("second"))
            for _ in range(200):
                if (await b.client.get(Pod, "second")).spec.node_name:
                    break
                await anyio.sleep(0.1)
            assert (await b.client.get(Pod, "second")).spec.node_name in ("node-0", "node-1")
            lease = await b.client.get(Lease, "kube-scheduler", "kube-system")
            assert lease.spec.holder_identity == "b"
            assert lease.spec.lease_transitions == 1
            assert (await b.scheduler_snapshot()).scheduled == 1


def test_an_election_needs_an_identity_and_ordered_timings() -> None:
    with pytest.raises(ValueError, match="identity"):
        LeaderElection("")
    with pytest.raises(ValueError, match="retry_period < renew_deadline < lease_duration"):
        LeaderElection("a", lease_duration=5.0, renew_deadline=10.0)
