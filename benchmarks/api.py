"""The API server against the store beneath it: creates, gets, a 10,000-pod list and
watch fan-out, each beside the store's raw figure from the same run.

`python -m benchmarks.api`. The API server adds validation, defaulting, admission,
encoding and decoding to every request; the `ratio_vs_store` column shows what that
costs (goal: creates at >= 50% of raw puts). Watch fan-out: one pod write seen by
5,000 watchers (as 5,000 kubelets would), timed from the write's commit (when the
store hands it to its watches) to each watcher's receipt; goal p99 <= 20 ms. Its
`_cpu_ms` columns time the same in the event loop's CPU time: the latency a machine
with nothing else to run would show, for runs on a shared one. The create row adds
the process's CPU time per create and per raw put (`api_cpu_us`, `store_cpu_us`),
steadier than rates on a shared machine. The run uses the collector thresholds every `kubeactors`
command runs with (`BENCH_API_GC=python`: the interpreter's defaults).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import msgspec

from benchmarks._report import emit
from kubeactors._gc import relaxed_gc
from kubeactors._switching import prompt_thread_switches
from kubeactors.actors import ActorSystem
from kubeactors.api import (
    ApiServer,
    Container,
    ObjectMeta,
    Pod,
    PodSpec,
    ResourceRequirements,
    kind_of,
)
from kubeactors.client import Client
from kubeactors.store import Event, Store, StoreOptions
from kubeactors.store._watch import observing_publishes

PODS = int(os.environ.get("BENCH_API_PODS", "10000"))
IN_FLIGHT = 256
WATCHERS = int(os.environ.get("BENCH_API_WATCHERS", "5000"))
WRITES = 20


def _pod(name: str) -> Pod:
    container = Container(
        name="app",
        image="registry.k8s.io/pause:3.9",
        resources=ResourceRequirements(requests={"cpu": "100m", "memory": "128Mi"}),
    )
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default"), spec=PodSpec(containers=[container])
    )


async def _rate(count: int, op: Callable[[int], Awaitable[object]]) -> float:
    """Run `op(i)` for i in range(count), IN_FLIGHT at a time; operations per second."""
    return (await _rate_and_cpu(count, op))[0]


async def _rate_and_cpu(count: int, op: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """`_rate`, and the process's CPU time per operation in microseconds (every actor
    and the store's thread): on a shared machine it moves far less than the rate."""
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            await op(index)

    started, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as group:
        for _ in range(IN_FLIGHT):
            group.start_soon(worker)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return count / elapsed, cpu / count * 1e6


async def _best_ms(rounds: int, op: Callable[[], Awaitable[object]]) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        await op()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


CPU_SAMPLE_EVERY = 16
"""Receipts per reading of the event loop's CPU clock: `time.thread_time` is a system
call (~0.7 us here, four times `perf_counter`), and read at all 5,000 receipts of a
write it would add ~3.5 ms to the fan-out it times."""


def _now() -> tuple[float, float]:
    """Wall time and the CPU time of this thread (the event loop's), in seconds."""
    return time.perf_counter(), time.thread_time()


@contextlib.contextmanager
def _publish_times() -> Iterator[dict[int, tuple[float, float]]]:
    """When (`_now`) the store hands each committed revision to its watchers.

    This is the moment a write becomes visible, and the start of its fan-out. The
    writer's acknowledgement is no clock for it: the store answers the writer just
    before it offers the write to every watch, but the writer's task only runs once
    that offering is done, so timing from the acknowledgement would leave the
    store's whole dispatch to 5,000 watches out of the figure.
    """
    published: dict[int, tuple[float, float]] = {}

    def timed(events: Sequence[Event], revision: int) -> None:
        now = _now()
        for event in events:
            published[event.kv.mod_revision] = now

    with observing_publishes(timed):
        yield published


async def _fan_out(
    open_watch: Callable[[], Awaitable[Any]],
    write: Callable[[int], Awaitable[int]],
    revision_of: Callable[[Any], int],
) -> tuple[list[float], list[float]]:
    """Open WATCHERS watches, do WRITES writes (each returning its revision) one
    after another, and return the delays in ms from each write's commit to each
    watcher's receipt of it: in wall time, and in the event loop's CPU time.

    The CPU figure is what the wall figure would be on a machine with nothing else
    to run (the fan-out is all CPU work on the loop's thread); on a shared, loaded
    machine the wall figure also counts the time other processes had the core. It
    is read at every CPU_SAMPLE_EVERY-th receipt, the wall clock at every one.
    Each write waits until every watcher has the one before: a write's figure is
    its own fan-out, not the tail of the previous one, and a watcher's n-th event
    is the n-th write (checked at the end: each watcher got every write, the last
    one last).
    """
    # Flat lists of ints and floats: objects the garbage collector does not track,
    # so that 100,000 receipts kept for the figures do not set off full collections
    # in the middle of the fan-outs they time.
    writes: list[int] = []
    walls: list[float] = []
    sampled_writes: list[int] = []
    cpus: list[float] = []
    last_events: list[Any] = []
    counts: list[int] = []
    watches = [await open_watch() for _ in range(WATCHERS)]
    remaining = [WATCHERS] * WRITES
    seen_all = [anyio.Event() for _ in range(WRITES)]
    started = 0
    receipts = 0
    all_started = anyio.Event()
    perf_counter, thread_time = time.perf_counter, time.thread_time

    async def follow(watch: Any) -> None:
        nonlocal started, receipts
        started += 1
        if started == WATCHERS:
            all_started.set()  # and this one waits for its first batch in the same step
        seen = 0
        last = None
        try:
            async for batch in watch:
                wall = perf_counter()
                receipts += 1
                if not receipts % CPU_SAMPLE_EVERY:
                    sampled_writes.append(seen)
                    cpus.append(thread_time())
                for _event in batch:
                    writes.append(seen)
                    walls.append(wall)
                    remaining[seen] -= 1
                    if not remaining[seen]:
                        seen_all[seen].set()
                    seen += 1
                last = batch[-1] if batch else last
        finally:
            last_events.append(last)
            counts.append(seen)

    revisions: list[int] = []
    with _publish_times() as published:
        async with anyio.create_task_group() as group:
            for watch in watches:
                group.start_soon(follow, watch)
            # The first write would otherwise also time 5,000 tasks starting, and the
            # garbage of opening 5,000 watches would be collected during some write.
            await all_started.wait()
            gc.collect()
            for index in range(WRITES):
                revisions.append(await write(index))
                with anyio.fail_after(120):
                    await seen_all[index].wait()
                await anyio.sleep(0.005)
            # Watchers stop only now: one that ended as it took the last write would
            # charge its task's teardown to the watchers after it.
            group.cancel_scope.cancel()
    for watch in watches:
        watch.close()
    if counts != [WRITES] * WATCHERS or any(
        last is None or revision_of(last) != revisions[-1] for last in last_events
    ):
        raise RuntimeError("a watcher missed a write or got the writes out of order")
    wall = [(at - published[revisions[n]][0]) * 1000 for n, at in zip(writes, walls, strict=True)]
    cpu = [
        (at - published[revisions[n]][1]) * 1000 for n, at in zip(sampled_writes, cpus, strict=True)
    ]
    return wall, cpu


async def main() -> None:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as directory:
        async with ActorSystem(seed=0, ask_timeout=120.0) as system:
            options = StoreOptions(synchronous="NORMAL", progress_interval=600.0)
            store = Store.spawn(system.root, Path(directory) / "store.db", options=options)
            api = system.spawn(
                lambda: ApiServer(store.ref, wall_clock=lambda: datetime.now(UTC)),
                name="apiserver",
                mailbox_size=ApiServer.mailbox_size,
            )
            client = Client(api, timeout=120.0)
            pods = kind_of(Pod)
            value = pods.encode(_pod("raw-0"))

            raw_puts, raw_put_cpu = await _rate_and_cpu(
                PODS, lambda i: store.put(b"/raw/pods/" + str(i).encode(), value)
            )
            creates, create_cpu = await _rate_and_cpu(
                PODS, lambda i: client.create(_pod(f"pod-{i}"))
            )
            rows.append(
                {
                    "name": f"create {PODS:,} pods ({IN_FLIGHT} in flight)",
                    "api_per_s": creates,
                    "store_per_s": raw_puts,
                    "ratio_vs_store": creates / raw_puts,
                    "api_cpu_us": create_cpu,
                    "store_cpu_us": raw_put_cpu,
                }
            )

            raw_gets = await _rate(PODS, lambda i: store.get(b"/raw/pods/" + str(i).encode()))
            gets = await _rate(PODS, lambda i: client.get(Pod, f"pod-{i}"))
            rows.append(
                {
                    "name": f"get {PODS:,} pods ({IN_FLIGHT} in flight)",
                    "api_per_s": gets,
                    "store_per_s": raw_gets,
                    "ratio_vs_store": gets / raw_gets,
                }
            )

            raw_list_ms = await _best_ms(3, lambda: store.range_prefix(b"/raw/pods/"))
            list_ms = await _best_ms(3, lambda: client.list(Pod))
            rows.append(
                {
                    "name": f"list {PODS:,} pods",
                    "api_ms": list_ms,
                    "store_ms": raw_list_ms,
                    "ratio_vs_store": raw_list_ms / list_ms,
                }
            )

            target = await client.get(Pod, "pod-0")
            # Watch from now: a watch from an old version would first replay history.
            version = (await client.list(Pod, limit=1)).resource_version

            async def api_write(index: int) -> int:
                nonlocal target
                labels = {"round": str(index)}
                target = await client.update(
                    msgspec.structs.replace(
                        target, metadata=msgspec.structs.replace(target.metadata, labels=labels)
                    )
                )
                return int(target.metadata.resource_version)

            async def raw_write(index: int) -> int:
                written = await store.put(b"/raw/pods/0", value + str(index).encode())
                return written.revision

            api_delays, api_cpu = await _fan_out(
                lambda: client.watch(Pod, "default", version),
                api_write,
                lambda event: int(event.object.metadata.resource_version),
            )
            raw_delays, raw_cpu = await _fan_out(
                lambda: store.watch_prefix(b"/raw/pods/"),
                raw_write,
                lambda event: int(event.kv.mod_revision),
            )
            for label, fraction in (("p50", 0.5), ("p99", 0.99)):
                through_api = _percentile(api_delays, fraction)
                raw = _percentile(raw_delays, fraction)
                rows.append(
                    {
                        "name": f"watch fan-out to {WATCHERS:,} watchers, {label}",
                        "api_ms": through_api,
                        "store_ms": raw,
                        "ratio_vs_store": raw / through_api if through_api else None,
                        "api_cpu_ms": _percentile(api_cpu, fraction),
                        "store_cpu_ms": _percentile(raw_cpu, fraction),
                    }
                )
    emit("API server vs raw store", rows)


if __name__ == "__main__":
    try:
        # The collector's thresholds and thread switch interval `kubeactors` runs every
        # cluster with (see kubeactors.cli); BENCH_API_GC=python keeps the
        # interpreter's collector defaults.
        with (
            contextlib.nullcontext()
            if os.environ.get("BENCH_API_GC") == "python"
            else relaxed_gc(),
            prompt_thread_switches(),
        ):
            anyio.run(main)
    except KeyboardInterrupt:
        sys.exit(130)
