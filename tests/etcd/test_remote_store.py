"""The store interface on a real three-member etcd cluster (`Store.connect("etcd://...")`).

The conformance suite runs on it too (tests/store, backend "etcd-store"); these tests
cover what only a cluster shows: a member killed under load, and a whole `Cluster`
running on etcd.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from kubeactors.actors import ActorSystem, Reply
from kubeactors.api import ApiError, Container, ObjectMeta, Pod, PodSpec, ResourceRequirements
from kubeactors.cluster import Cluster
from kubeactors.etcd import EtcdClient
from kubeactors.etcd._proto import rpc_pb2
from kubeactors.store import (
    ConflictError,
    Event,
    EventType,
    Put,
    Store,
    UnavailableError,
    WatchStream,
    WriteResult,
    prefix_end,
)

from .etcd_cluster import EtcdCluster, etcd_available

WRITERS = 8
WRITES_AFTER_KILL = 25


@pytest.fixture
def etcd_cluster() -> Iterator[EtcdCluster]:
    if not etcd_available():
        pytest.skip("etcd is not installed (apt-get install -y etcd-server)")
    with EtcdCluster(3) as cluster:
        yield cluster


async def _collect(stream: WatchStream, into: list[Event], until: bytes) -> None:
    async for batch in stream:
        into.extend(batch)
        if any(event.kv.key == until for event in batch):
            return


async def test_killing_the_leader_mid_workload_loses_no_acknowledged_write(
    etcd_cluster: EtcdCluster,
) -> None:
    leader = etcd_cluster.leader()
    # The store talks to the leader first, so the kill hits its connections, its
    # watch and the cluster's leadership at once.
    order = [leader] + [m for m in range(3) if m != leader]
    prefix = b"/load/"
    async with ActorSystem(seed=0) as system:
        store = Store.connect(system.root, etcd_cluster.url(order))
        start = (await store.range_prefix(prefix)).revision + 1
        stream = await store.watch_prefix(prefix, start_revision=start)
        acknowledged: dict[bytes, tuple[bytes, int]] = {}
        unknown: list[tuple[bytes, bool]] = []
        after_kill = [0] * WRITERS
        outcomes: list[list[bool]] = [[] for _ in range(WRITERS)]
        killed = anyio.Event()

        async def writer(index: int) -> None:
            sequence = 0
            while after_kill[index] < WRITES_AFTER_KILL:
                key = b"%s%d/%05d" % (prefix, index, sequence)
                value = b"w%d-%d" % (index, sequence)
                sequence += 1
                try:
                    result = await store.put(key, value)
                except UnavailableError as error:
                    unknown.append((key, error.maybe_applied))
                    outcomes[index].append(False)
                    continue
                acknowledged[key] = (value, result.revision)
                if killed.is_set():
                    after_kill[index] += 1
                    outcomes[index].append(True)

        async def killer() -> None:
            with anyio.fail_after(30):
                while len(acknowledged) < 200:
                    await system.clock.sleep(0.01)
            etcd_cluster.kill(leader)
            killed.set()

        with anyio.fail_after(90):
            async with anyio.create_task_group() as group:
                group.start_soon(killer)
                for index in range(WRITERS):
                    group.start_soon(writer, index)
            sentinel = prefix + b"~sentinel"
            await store.put(sentinel, b"end")
            events: list[Event] = []
            await _collect(stream, events, sentinel)

        # Writes in flight when the leader died, or proposed to it just before, end
        # with an unknown outcome (as with clientv3); once a new leader is elected
        # every write is accepted again.
        assert all(all(tail[-10:]) for tail in outcomes), outcomes
        assert all(maybe_applied for _, maybe_applied in unknown), unknown
        stored = {kv.key: kv for kv in (await store.range_prefix(prefix)).kvs}
        for key, (value, revision) in acknowledged.items():
            assert key in stored, f"acknowledged write of {key!r} lost"
            assert (stored[key].value, stored[key].mod_revision) == (value, revision)
        # The watch resumed on another member without a gap or a repeat: it saw
        # exactly the puts the store holds, in revision order.
        revisions = [event.kv.mod_revision for event in events]
        assert revisions == sorted(set(revisions))
        assert all(event.type is EventType.PUT for event in events)
        assert {e.kv.key: e.kv.mod_revision for e in events} == {
            key: kv.mod_revision for key, kv in stored.items()
        }
        stream.close()


async def test_a_cluster_runs_its_pods_on_etcd(etcd_cluster: EtcdCluster) -> None:
    async with Cluster(nodes=3, store=etcd_cluster.url()) as cluster:
        await cluster.create_pods(30, cpu="100m", memory="64Mi")
        await cluster.wait_until_running(30, timeout=60)
        pods = await cluster.pods()
        assert {pod.status.phase for pod in pods} == {"Running"}
        assert {pod.spec.node_name for pod in pods} <= {"node-0", "node-1", "node-2"}
    # The objects live in etcd itself, where any etcd client sees them.
    async with EtcdClient(etcd_cluster.address(1)) as client:
        prefix = b"/registry/pods/"
        found = await client.range(
            rpc_pb2.RangeRequest(key=prefix, range_end=prefix_end(prefix), count_only=True)
        )
        assert found.count == 30


def _pod(name: str) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=PodSpec(
            containers=[
                Container(
                    name="app",
                    image="registry.k8s.io/pause:3.9",
                    resources=ResourceRequirements(requests={"cpu": "50m", "memory": "32Mi"}),
                )
            ]
        ),
    )


async def test_a_cluster_keeps_scheduling_when_the_leader_is_killed(
    etcd_cluster: EtcdCluster,
) -> None:
    leader = etcd_cluster.leader()
    order = [leader] + [m for m in range(3) if m != leader]
    async with Cluster(nodes=3, store=etcd_cluster.url(order)) as cluster:
        created: list[str] = []
        failed: list[str] = []

        async def creator(index: int) -> None:
            for number in range(15):
                name = f"pod-{index}-{number}"
                try:
                    await cluster.client.create(_pod(name))
                except ApiError:
                    failed.append(name)  # in flight on the dead leader: outcome unknown
                    continue
                created.append(name)
                if len(created) == 20:
                    etcd_cluster.kill(leader)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for index in range(4):
                    group.start_soon(creator, index)
        assert len(created) >= 40
        # Every pod that exists runs: the acknowledged ones, and those whose create
        # had an unknown outcome but was applied.
        await cluster.wait_until_running(timeout=60)
        pods = await cluster.pods()
        assert {pod.status.phase for pod in pods} == {"Running"}
        assert set(created) <= {pod.metadata.name for pod in pods} <= set(created + failed)


def _etcd_watchers(cluster: EtcdCluster) -> int:
    """How many watchers the etcd members hold, from their metrics."""
    total = 0
    for member in range(3):
        text = httpx.get(f"http://{cluster.address(member)}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith("etcd_debugging_mvcc_watcher_total "):
                total += int(float(line.split()[1]))
    return total


async def _keys_until(stream: WatchStream, last: bytes) -> list[bytes]:
    events: list[Event] = []
    with anyio.fail_after(20):
        await _collect(stream, events, last)
    return [event.kv.key for event in events]


async def test_watches_of_one_range_share_one_etcd_watch(etcd_cluster: EtcdCluster) -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.connect(system.root, etcd_cluster.url())
        start = (await store.put(b"/w/a", b"0")).revision + 1
        first = await store.watch_prefix(b"/w/", start_revision=start)
        second = await store.watch_prefix(b"/w/", start_revision=start)
        await store.put(b"/w/b", b"1")
        # A later start joins the same etcd watch and drops what came before it.
        third = await store.watch_prefix(b"/w/", start_revision=start + 1)
        assert _etcd_watchers(etcd_cluster) == 1
        await store.put(b"/w/c", b"2")
        assert await _keys_until(second, b"/w/c") == [b"/w/b", b"/w/c"]
        second.close()
        await store.put(b"/w/d", b"3")
        assert await _keys_until(first, b"/w/d") == [b"/w/b", b"/w/c", b"/w/d"]
        assert await _keys_until(third, b"/w/d") == [b"/w/c", b"/w/d"]
        first.close()
        third.close()
        with anyio.fail_after(10):
            while _etcd_watchers(etcd_cluster):
                await system.clock.sleep(0.05)


async def test_an_error_a_forwarder_takes_over_is_left_to_it(etcd_cluster: EtcdCluster) -> None:
    """As the API server retries a create whose generated name was taken: its reply's
    error handler takes the error over and answers later; the store must not."""
    async with ActorSystem(seed=0) as system:
        store = Store.connect(system.root, etcd_cluster.url())
        await store.put(b"/taken", b"x")
        seen: list[BaseException] = []
        retried = WriteResult(-1)

        def request(reply: Reply[WriteResult]) -> Put:
            def take_over(error: BaseException) -> None:
                seen.append(error)
                asyncio.get_running_loop().call_soon(reply.send, retried)

            forwarder: Reply[WriteResult] = reply.forward(lambda result: result, take_over)
            return Put(b"/taken", b"y", forwarder, expect_mod_revision=0)

        assert await store.ref.ask(request, timeout=20) is retried
        assert [type(error) for error in seen] == [ConflictError]


@pytest.mark.parametrize(
    "url", ["etcd://", "etcd://127.0.0.1", "etcd://127.0.0.1:2379,:2380", "etcd://h:99999"]
)
async def test_a_bad_store_url_names_the_endpoint_at_fault(url: str) -> None:
    async with ActorSystem(seed=0) as system:
        with pytest.raises(ValueError, match=r"etcd endpoint .* is not host:port"):
            Store.connect(system.root, url)


async def test_a_path_connects_the_embedded_store(tmp_path: Path) -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.connect(system.root, tmp_path / "store.db")
        assert (await store.put(b"k", b"v")).revision == 1
        assert (await store.status()).revision == 1
