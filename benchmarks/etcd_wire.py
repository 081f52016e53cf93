"""kubeactors' etcd endpoint beside a real etcd 3.4, over the same wire with the same client.

`python -m benchmarks.etcd_wire`: puts/s and ranges/s with 1 and 64 requests in
flight, and watch latency (a put until its event arrives on a watch), each against
`kubeactors etcd` and against `etcd`, both started by the benchmark as separate
processes on loopback ports with fresh data dirs. The client is `EtcdClient`
(grpc.aio) in this process for both, so the ratio compares the servers. Both
servers make every write durable (etcd fsyncs its WAL; the store uses SQLite's
synchronous=FULL).

Then the cost of going distributed: a SchedulingBasic-like run (`Cluster(nodes=500)`,
2,000 pods of 100m/128Mi created 256 at a time, until all are Running) with the
store embedded (SQLite) and with `Cluster(store="etcd://...")` on one etcd member
and on a three-member etcd cluster on this machine. `python -m
benchmarks.etcd_wire scheduling` runs that part alone.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio

from benchmarks._report import emit
from kubeactors.cluster import Cluster
from kubeactors.etcd import EtcdClient
from kubeactors.etcd._proto import rpc_pb2
from tests.etcd.etcd_cluster import EtcdCluster

pb = rpc_pb2
OPERATIONS = {1: 1_500, 64: 12_000}
WATCH_SAMPLES = 300
VALUE = b"v" * 256
KEYS = 1_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(kind: str) -> Iterator[str]:
    """Start `kubeactors etcd` or `etcd` on free loopback ports; yield its address."""
    directory = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    if kind == "etcd":
        peer = f"http://127.0.0.1:{_free_port()}"
        command = [
            shutil.which("etcd") or "etcd",
            "--name=bench",
            f"--data-dir={directory / 'data'}",
            f"--listen-client-urls={url}",
            f"--advertise-client-urls={url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=bench={peer}",
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "kubeactors.etcd",
            f"--data-dir={directory / 'data'}",
            f"--listen-client-urls={url}",
            "--log-level=WARNING",
        ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


@asynccontextmanager
async def _connected(address: str) -> AsyncIterator[EtcdClient]:
    async with EtcdClient(address, timeout=30.0) as client:
        with anyio.fail_after(60):
            await client.wait_ready()
        yield client


async def _rate(operations: int, in_flight: int, call: Callable[[int], Awaitable[object]]) -> float:
    """Operations per second with `in_flight` callers sharing `operations` calls."""
    remaining = iter(range(operations))

    async def caller() -> None:
        for index in remaining:
            await call(index)

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(in_flight):
            group.start_soon(caller)
    return operations / (time.perf_counter() - started)


async def _watch_latency(client: EtcdClient) -> tuple[float, float]:
    """p50 and p99 milliseconds from sending a put to its event arriving on a watch."""
    send, receive = anyio.create_memory_object_stream[pb.WatchRequest](10)
    responses = aiter(client.watch(receive))
    create = pb.WatchCreateRequest(key=b"watched/", range_end=b"watched0")
    await send.send(pb.WatchRequest(create_request=create))
    await anext(responses)
    samples = []
    try:
        for index in range(WATCH_SAMPLES):
            started = time.perf_counter()
            await client.put(pb.PutRequest(key=b"watched/%d" % index, value=VALUE))
            while True:
                response = await anext(responses)
                if response.events:
                    break
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await send.aclose()
        await receive.aclose()
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


async def _measure(address: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with _connected(address) as client:
        for in_flight, operations in OPERATIONS.items():

            async def put(index: int) -> None:
                await client.put(pb.PutRequest(key=b"bench/%d" % (index % KEYS), value=VALUE))

            async def get(index: int) -> None:
                await client.range(pb.RangeRequest(key=b"bench/%d" % (index % KEYS)))

            figures[f"put, {in_flight} in flight"] = await _rate(operations, in_flight, put)
            figures[f"range, {in_flight} in flight"] = await _rate(operations, in_flight, get)
        figures["watch p50"], figures["watch p99"] = await _watch_latency(client)
    return figures


async def _run() -> list[dict[str, object]]:
    results: dict[str, dict[str, float]] = {}
    for kind in ("kubeactors", "etcd"):
        with _server(kind) as address:
            results[kind] = await _measure(address)
    rows: list[dict[str, object]] = []
    for name, ours in results["kubeactors"].items():
        theirs = results["etcd"][name]
        if name.startswith("watch"):
            # Lower is better for latency: the ratio is etcd's over ours.
            rows.append(
                {
                    "name": name,
                    "kubeactors_ms": ours,
                    "etcd_ms": theirs,
                    "ratio_vs_etcd": theirs / ours,
                }
            )
        else:
            rows.append(
                {
                    "name": name,
                    "kubeactors_ops_per_s": ours,
                    "etcd_ops_per_s": theirs,
                    "ratio_vs_etcd": ours / theirs,
                }
            )
    return rows


NODES = 500
PODS = 2_000


async def _schedule(store: str | None) -> tuple[float, int]:
    """Seconds from the first create until every pod is Running, and bind failures."""
    async with Cluster(nodes=NODES, store=store, synchronous="FULL") as cluster:
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: cluster.create_pods(PODS, cpu="100m", memory="128Mi"))
            await cluster.wait_until_running(PODS, timeout=600)
        elapsed = time.perf_counter() - started
        snapshot = await cluster.scheduler_snapshot()
    return elapsed, snapshot.bind_failures


async def _scheduling() -> list[dict[str, object]]:
    results: dict[str, tuple[float, int]] = {}
    results["embedded store (SQLite, FULL)"] = await _schedule(None)
    with _server("etcd") as address:
        async with _connected(address):
            pass
        results["etcd, 1 member"] = await _schedule(f"etcd://{address}")
    with EtcdCluster(3) as cluster:
        results["etcd, 3 members"] = await _schedule(cluster.url())
    baseline = PODS / results["embedded store (SQLite, FULL)"][0]
    rows: list[dict[str, object]] = []
    for name, (elapsed, bind_failures) in results.items():
        rate = PODS / elapsed
        rows.append(
            {
                "name": f"{NODES} nodes, {PODS} pods: {name}",
                "seconds_to_running": elapsed,
                "pods_per_s": rate,
                "ratio_vs_embedded": rate / baseline,
                "bind_failures": bind_failures,
            }
        )
    return rows


def main() -> None:
    if sys.argv[1:] != ["scheduling"]:
        rows = anyio.run(_run)
        emit(
            "etcd wire: kubeactors etcd vs etcd 3.4 (ratio >= 1: kubeactors at least on par)",
            rows,
        )
    emit("SchedulingBasic on each store: the cost of going distributed", anyio.run(_scheduling))


if __name__ == "__main__":
    main()
