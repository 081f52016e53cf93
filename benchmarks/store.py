"""The store against a real etcd on the same machine: puts, txns, ranges, watch latency.

`python -m benchmarks.store`. etcd (3.4) is started by the benchmark on loopback ports
with a temporary data dir; its rows are skipped with a message when it is not
installed. etcd is driven from Python through its JSON gRPC-gateway with httpx (64
pooled HTTP/1.1 connections): slower per request than a gRPC client, which the
`etcd_client` column says. Both stores run with durable commits (our store
`synchronous=FULL`, etcd's fsync per batch).

Watch latency is measured over 10 watchers of one prefix while one writer puts
1,000 keys: `watch_p*_ms` from the put's acknowledgement (its commit, as seen from
outside) to each watcher's receipt, `watch_e2e_p*_ms` from sending the put, so
including its durable commit.
"""

from __future__ import annotations

import asyncio
import base64
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from benchmarks._report import emit
from kubeactors.actors import ActorSystem
from kubeactors.store import (
    Compare,
    CompareResult,
    CompareTarget,
    PutOp,
    RangeOp,
    Store,
    TxnOp,
    WatchStream,
    prefix_end,
)
from tests.store.etcd_gateway import EtcdClient, EtcdServer, etcd_available

ETCD_CLIENT = "JSON gateway, asyncio HTTP/1.1 keep-alive, 64 connections"
VALUE = b"v" * 256


async def _rate(count: int, in_flight: int, op: Callable[[int], Awaitable[object]]) -> float:
    """Run `op(i)` for i in range(count) with `in_flight` concurrent callers; ops/s."""
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            i = next_index
            next_index += 1
            await op(i)

    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for _ in range(in_flight):
            tasks.start_soon(worker)
    return count / (time.perf_counter() - started)


WATCHERS = 10


class _Latencies:
    """Per key: when its put was sent and acknowledged, and when each watcher got it."""

    def __init__(self) -> None:
        self.sent: dict[bytes, float] = {}
        self.acked: dict[bytes, float] = {}
        self.got: dict[bytes, list[float]] = {}

    def received(self, key: bytes, now: float) -> None:
        self.got.setdefault(key, []).append(now)

    def commit_to_watcher(self) -> list[float]:
        """From the acknowledgement of the put (the first moment its commit is visible
        outside the store) to each watcher's receipt; an event that arrives before the
        acknowledgement counts as 0."""
        return sorted(max(at - self.acked[key], 0.0) for key, ats in self.got.items() for at in ats)

    def end_to_end(self) -> list[float]:
        """From sending the put (so including its durable commit) to each receipt."""
        return sorted(at - self.sent[key] for key, ats in self.got.items() for at in ats)


def _percentile(values: list[float], fraction: float) -> float:
    return values[max(int(len(values) * fraction) - 1, 0)] * 1000


class _Target:
    """The operations measured, for one store."""

    async def put(self, key: bytes) -> None:
        raise NotImplementedError

    async def txn(self, key: bytes, other: bytes) -> None:
        raise NotImplementedError

    async def range_prefix(self, prefix: bytes) -> int:
        raise NotImplementedError

    async def watch_latency(self, samples: int) -> _Latencies:
        raise NotImplementedError


def _txn(key: bytes, other: bytes) -> TxnOp:
    return TxnOp(
        [Compare(key, CompareTarget.VERSION, CompareResult.GREATER, -1)],
        [PutOp(key, VALUE), RangeOp(other)],
        [RangeOp(key)],
    )


class _Ours(_Target):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def put(self, key: bytes) -> None:
        await self.store.put(key, VALUE)

    async def txn(self, key: bytes, other: bytes) -> None:
        txn = _txn(key, other)
        await self.store.txn(txn.compares, txn.success, txn.failure)

    async def range_prefix(self, prefix: bytes) -> int:
        return len((await self.store.range_prefix(prefix)).kvs)

    async def watch_latency(self, samples: int) -> _Latencies:
        streams = [
            await self.store.watch_prefix(b"/watch/", prev_kv=False) for _ in range(WATCHERS)
        ]
        times = _Latencies()

        async def receive(stream: WatchStream) -> None:
            seen = 0
            async for batch in stream:
                now = time.perf_counter()
                for event in batch:
                    times.received(event.kv.key, now)
                seen += len(batch)
                if seen >= samples:
                    return

        async with anyio.create_task_group() as tasks:
            for stream in streams:
                tasks.start_soon(receive, stream)
            for i in range(samples):
                key = b"/watch/%d" % i
                times.sent[key] = time.perf_counter()
                await self.store.put(key, VALUE)
                times.acked[key] = time.perf_counter()
        for stream in streams:
            stream.close()
        return times


class _Etcd(_Target):
    def __init__(self, client: EtcdClient) -> None:
        self.client = client

    async def put(self, key: bytes) -> None:
        await self.client.put(PutOp(key, VALUE))

    async def txn(self, key: bytes, other: bytes) -> None:
        await self.client.txn(_txn(key, other))

    async def range_prefix(self, prefix: bytes) -> int:
        return len((await self.client.range(RangeOp(prefix, prefix_end(prefix)))).kvs)

    async def watch_latency(self, samples: int) -> _Latencies:
        start = await self.client.revision() + 1
        request = {
            "key": base64.b64encode(b"/watch/").decode(),
            "range_end": base64.b64encode(prefix_end(b"/watch/")).decode(),
            "start_revision": start,
        }
        times = _Latencies()
        ready = [anyio.Event() for _ in range(WATCHERS)]

        async def receive(registered: anyio.Event) -> None:
            seen = 0
            async for _, events in self.client.watch(request):
                registered.set()
                now = time.perf_counter()
                for event in events:
                    times.received(event.kv.key, now)
                seen += len(events)
                if seen >= samples:
                    return

        async with anyio.create_task_group() as tasks:
            for registered in ready:
                tasks.start_soon(receive, registered)
            for registered in ready:
                await registered.wait()
            for i in range(samples):
                key = b"/watch/%d" % i
                times.sent[key] = time.perf_counter()
                await self.client.put(PutOp(key, VALUE))
                times.acked[key] = time.perf_counter()
        return times


async def _measure(target: _Target, name: str, scale: int) -> dict[str, object]:
    row: dict[str, object] = {"name": name}
    row["puts_per_s_1"] = await _rate(scale // 4, 1, lambda i: target.put(b"/one/%d" % i))
    row["puts_per_s_64"] = await _rate(scale, 64, lambda i: target.put(b"/many/%d" % i))
    row["txns_per_s_64"] = await _rate(
        scale // 2, 64, lambda i: target.txn(b"/txn/%d" % (i % 500), b"/many/%d" % i)
    )
    await _rate(1000, 16, lambda i: target.put(b"/range/%04d" % i))
    assert await target.range_prefix(b"/range/") == 1000
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        await target.range_prefix(b"/range/")
    row["range_1000_ms"] = (time.perf_counter() - started) / rounds * 1000
    times = await target.watch_latency(1000)
    delivery = times.commit_to_watcher()
    end_to_end = times.end_to_end()
    row["watch_p50_ms"] = _percentile(delivery, 0.5)
    row["watch_p99_ms"] = _percentile(delivery, 0.99)
    row["watch_e2e_p50_ms"] = _percentile(end_to_end, 0.5)
    row["watch_e2e_p99_ms"] = _percentile(end_to_end, 0.99)
    return row


async def _run_ours(directory: Path) -> dict[str, object]:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, directory / "store.db")
        row = await _measure(_Ours(store), "kubeactors store (SQLite, synchronous=FULL)", 20_000)
        row["client"] = "in-process actor ask"
        return row


async def _run_ours_relaxed(directory: Path) -> dict[str, object]:
    """Puts only, with the documented faster option: WAL without fsync per commit
    (survives a process crash, may lose the last commits on power loss)."""
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, directory / "relaxed.db", synchronous="NORMAL")
        target = _Ours(store)
        return {
            "name": "kubeactors store (synchronous=NORMAL)",
            "puts_per_s_1": await _rate(5_000, 1, lambda i: target.put(b"/one/%d" % i)),
            "puts_per_s_64": await _rate(20_000, 64, lambda i: target.put(b"/many/%d" % i)),
            "client": "in-process actor ask",
        }


async def _run_etcd() -> dict[str, object] | None:
    if not etcd_available():
        print("etcd is not installed: etcd rows skipped", file=sys.stderr)
        return None
    with EtcdServer() as server:
        client = EtcdClient(server.url)
        try:
            row = await _measure(_Etcd(client), "etcd 3.4", 5_000)
        finally:
            await client.aclose()
    row["client"] = ETCD_CLIENT
    return row


async def _run_etcd_grpc() -> dict[str, object] | None:
    """Puts through etcd's own gRPC API, the fastest client Python has for it, so the
    ratio is not flattered by the JSON gateway's overhead."""
    if not etcd_available():
        return None
    from kubeactors.etcd import EtcdClient as GrpcClient
    from kubeactors.etcd._proto import rpc_pb2

    with EtcdServer() as server:
        async with GrpcClient(f"127.0.0.1:{server.port}") as client:
            await client.wait_ready()

            async def put(key: bytes) -> None:
                await client.put(rpc_pb2.PutRequest(key=key, value=VALUE))

            return {
                "name": "etcd 3.4 (gRPC)",
                "puts_per_s_1": await _rate(1_000, 1, lambda i: put(b"/one/%d" % i)),
                "puts_per_s_64": await _rate(5_000, 64, lambda i: put(b"/many/%d" % i)),
                "client": "grpc.aio, one channel, 64 in flight",
            }


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours = await _run_ours(Path(tmp))
        relaxed = await _run_ours_relaxed(Path(tmp))
    etcd = await _run_etcd()
    etcd_grpc = await _run_etcd_grpc()
    rows = [ours, relaxed]
    summary: dict[str, object] = {
        "name": "store summary",
        "puts_per_s_64": ours["puts_per_s_64"],
        "watch_p99_ms": ours["watch_p99_ms"],
        "watch_e2e_p99_ms": ours["watch_e2e_p99_ms"],
    }
    if etcd is not None:
        rows.append(etcd)
        ratio = float(ours["puts_per_s_64"]) / float(etcd["puts_per_s_64"])  # type: ignore[arg-type]
        summary["etcd_puts_per_s_64"] = etcd["puts_per_s_64"]
        summary["ratio_64"] = ratio
        summary["etcd_client"] = ETCD_CLIENT
    if etcd_grpc is not None:
        rows.append(etcd_grpc)
        grpc_puts = float(etcd_grpc["puts_per_s_64"])  # type: ignore[arg-type]
        summary["etcd_grpc_puts_per_s_64"] = grpc_puts
        summary["ratio_64_vs_grpc"] = float(ours["puts_per_s_64"]) / grpc_puts  # type: ignore[arg-type]
    rows.append(summary)
    emit("store: kubeactors vs etcd", rows)


if __name__ == "__main__":
    asyncio.run(main())
