"""kubeactors' etcd endpoint beside a real etcd 3.4, over the same wire with the same client.

`python -m benchmarks.etcd_wire`: puts/s and ranges/s with 1 and 64 requests in
flight, and watch latency (a put until its event arrives on a watch), against
`kubeactors etcd` and against `etcd`. Both run at once as separate processes on
loopback ports with fresh data dirs, each in its default durability mode (etcd
fdatasyncs its WAL before it acknowledges; `kubeactors etcd` commits with SQLite's
synchronous=FULL, an fsync per group commit). The client is `EtcdClient` (grpc.aio)
in this process for both, so the ratio compares the servers. Each scenario runs in
`SLICES` short slices, the servers taking turns (the order flips every slice), so a
change in the machine's load hits both alike; the ratio is the median of the
per-slice ratios, with their lowest and highest beside it.

Each row also says where a call's time goes: the CPU each server process spent per
call (from /proc), the same for a `grpc.aio` server answering prebuilt responses
with no store (`benchmarks._etcd_floor`: what gRPC's Python server costs alone, and
in `floor_ratio_vs_etcd` the best ratio any server behind it could reach), and the
CPU per call of our KV service over the store without gRPC (in this process).

Then the cost of going distributed: a SchedulingBasic-like run (`Cluster(nodes=500)`,
2,000 pods of 100m/128Mi created 256 at a time, until all are Running) with the
store embedded (SQLite) and with `Cluster(store="etcd://...")` on one etcd member
and on a three-member etcd cluster on this machine. `python -m
benchmarks.etcd_wire scheduling` runs that part alone; `python -m
benchmarks.etcd_wire wire` the wire part alone.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import anyio

from benchmarks._report import emit
from kubeactors.actors import ActorSystem
from kubeactors.cluster import Cluster
from kubeactors.etcd import EtcdClient
from kubeactors.etcd._convert import Identity
from kubeactors.etcd._kv import KeyValueService, Limits
from kubeactors.etcd._proto import rpc_pb2
from kubeactors.store import Store
from tests.etcd.etcd_cluster import EtcdCluster

pb = rpc_pb2
SLICES = 8
OPERATIONS = {1: 2_000, 64: 12_000}
"""Calls per server and scenario, made in `SLICES` slices."""
WATCH_SAMPLES = 320
VALUE = b"v" * 256
KEYS = 1_000
SERVERS = ("kubeactors", "etcd", "floor")
DURABILITY = (
    "both durable by default: etcd fdatasyncs its WAL, kubeactors commits with SQLite "
    "synchronous=FULL (an fsync per group commit), before acknowledging a write"
)
_TICKS = os.sysconf("SC_CLK_TCK")


class _KV(Protocol):
    """What `EtcdClient` and `KeyValueService` both answer, with the same messages."""

    async def put(self, request: pb.PutRequest) -> pb.PutResponse: ...
    async def range(self, request: pb.RangeRequest) -> pb.RangeResponse: ...


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Server:
    kind: str
    address: str
    pid: int

    def cpu_seconds(self) -> float:
        """User and system CPU the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS


@contextmanager
def _server(kind: str) -> Iterator[_Server]:
    """Start `kubeactors etcd`, `etcd` or the gRPC floor on free loopback ports."""
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
    elif kind == "kubeactors":
        command = [
            sys.executable,
            "-m",
            "kubeactors.etcd",
            f"--data-dir={directory / 'data'}",
            f"--listen-client-urls={url}",
            "--log-level=WARNING",
        ]
    else:
        command = [sys.executable, "-m", "benchmarks._etcd_floor", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield _Server(kind, f"127.0.0.1:{port}", process.pid)
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


def _call(kv: _KV, operation: str) -> Callable[[int], Awaitable[object]]:
    """A put or a range of one of `KEYS` keys: the `index`th call of a run."""

    async def put(index: int) -> None:
        await kv.put(pb.PutRequest(key=b"bench/%d" % (index % KEYS), value=VALUE))

    async def get(index: int) -> None:
        await kv.range(pb.RangeRequest(key=b"bench/%d" % (index % KEYS)))

    return put if operation == "put" else get


def _scenario(operation: str, in_flight: int) -> str:
    return f"{operation}, {in_flight} in flight"


@dataclass
class _Samples:
    """One server's measurements of one scenario, a slice at a time."""

    rates: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    operations: int = 0

    def rate(self) -> float:
        return self.operations / self.seconds

    def cpu_us_per_call(self) -> float:
        return self.cpu_seconds / self.operations * 1e6


async def _watch_latency(client: EtcdClient, samples: list[float], first: int) -> None:
    """Milliseconds from sending a put to its event arriving on a watch, appended."""
    send, receive = anyio.create_memory_object_stream[pb.WatchRequest](10)
    responses = aiter(client.watch(receive))
    create = pb.WatchCreateRequest(key=b"watched/", range_end=b"watched0")
    await send.send(pb.WatchRequest(create_request=create))
    await anext(responses)
    try:
        for index in range(first, first + WATCH_SAMPLES // SLICES):
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


async def _service_cost() -> dict[str, float]:
    """CPU per call of our KV service over a store in this process, without gRPC."""
    costs: dict[str, float] = {}
    directory = Path(tempfile.mkdtemp(prefix="bench-service-"))
    try:
        async with ActorSystem() as system:
            store = Store.spawn(system.root, directory / "kubeactors.db")
            service = KeyValueService(store, Identity(), Limits())
            await _rate(KEYS, 64, _call(service, "put"))
            for in_flight, operations in OPERATIONS.items():
                for operation in ("put", "range"):
                    started = time.process_time()
                    await _rate(operations, in_flight, _call(service, operation))
                    spent = time.process_time() - started
                    costs[_scenario(operation, in_flight)] = spent / operations * 1e6
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return costs


async def _slice(
    server: _Server, client: EtcdClient, operation: str, in_flight: int, entry: _Samples
) -> None:
    operations = OPERATIONS[in_flight] // SLICES
    cpu_before, started = server.cpu_seconds(), time.perf_counter()
    await _rate(operations, in_flight, _call(client, operation))
    seconds = time.perf_counter() - started
    entry.cpu_seconds += server.cpu_seconds() - cpu_before
    entry.seconds += seconds
    entry.operations += operations
    entry.rates.append(operations / seconds)


async def _measure(
    servers: list[_Server],
) -> tuple[dict[tuple[str, str], _Samples], dict[str, list[float]]]:
    """Every scenario on every server in `SLICES` slices, the servers taking turns."""
    samples: dict[tuple[str, str], _Samples] = {}
    watch: dict[str, list[float]] = {server.kind: [] for server in servers}
    async with AsyncExitStack() as stack:
        clients = {s.kind: await stack.enter_async_context(_connected(s.address)) for s in servers}
        for server in servers:  # every key exists before the first range
            await _rate(KEYS, 64, _call(clients[server.kind], "put"))
        for in_flight in OPERATIONS:
            for operation in ("put", "range"):
                scenario = _scenario(operation, in_flight)
                for index in range(SLICES):
                    for server in servers if index % 2 == 0 else servers[::-1]:
                        entry = samples.setdefault((scenario, server.kind), _Samples())
                        await _slice(server, clients[server.kind], operation, in_flight, entry)
        for index in range(SLICES):
            for server in servers if index % 2 == 0 else servers[::-1]:
                if server.kind != "floor":
                    first = index * WATCH_SAMPLES
                    await _watch_latency(clients[server.kind], watch[server.kind], first)
    return samples, watch


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


async def _run() -> list[dict[str, object]]:
    service = await _service_cost()
    with ExitStack() as stack:
        servers = [stack.enter_context(_server(kind)) for kind in SERVERS]
        samples, watch = await _measure(servers)
    load = round(os.getloadavg()[0], 2)
    rows: list[dict[str, object]] = []
    for in_flight in OPERATIONS:
        for operation in ("put", "range"):
            name = _scenario(operation, in_flight)
            ours, theirs, floor = (samples[name, kind] for kind in SERVERS)
            ratios = [a / b for a, b in zip(ours.rates, theirs.rates, strict=True)]
            rows.append(
                {
                    "name": name,
                    "kubeactors_ops_per_s": ours.rate(),
                    "etcd_ops_per_s": theirs.rate(),
                    "ratio_vs_etcd": statistics.median(ratios),
                    "ratio_min": min(ratios),
                    "ratio_max": max(ratios),
                    "grpc_floor_ops_per_s": floor.rate(),
                    # The ratio a server with nothing behind gRPC would reach: the ceiling.
                    "floor_ratio_vs_etcd": floor.rate() / theirs.rate(),
                    "kubeactors_cpu_us_per_call": ours.cpu_us_per_call(),
                    "etcd_cpu_us_per_call": theirs.cpu_us_per_call(),
                    "grpc_floor_cpu_us_per_call": floor.cpu_us_per_call(),
                    "service_cpu_us_per_call": service[name],
                    "load_1m": load,
                }
            )
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        ours_ms = _percentile(watch["kubeactors"], fraction)
        theirs_ms = _percentile(watch["etcd"], fraction)
        rows.append(
            {
                "name": f"watch {label}",
                "kubeactors_ms": ours_ms,
                "etcd_ms": theirs_ms,
                # Lower is better for latency: the ratio is etcd's over ours.
                "ratio_vs_etcd": theirs_ms / ours_ms,
                "load_1m": load,
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
    with _server("etcd") as etcd:
        async with _connected(etcd.address):
            pass
        results["etcd, 1 member"] = await _schedule(f"etcd://{etcd.address}")
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
    parts = sys.argv[1:] or ["wire", "scheduling"]
    if "wire" in parts:
        load = os.getloadavg()[0]
        rows = anyio.run(_run)
        emit(
            "etcd wire: kubeactors etcd vs etcd 3.4 (ratio >= 1: kubeactors at least on par); "
            f"{DURABILITY}; load {load:.2f} at the start",
            rows,
        )
    if "scheduling" in parts:
        emit(
            "SchedulingBasic on each store: the cost of going distributed",
            anyio.run(_scheduling),
        )


if __name__ == "__main__":
    main()
