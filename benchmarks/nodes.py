"""The data plane at scale: thousands of simulated nodes in one process.

`python -m benchmarks.nodes [--nodes N] [--pods-per-node K] [--profile FILE]`: starts N kubelets
(default 5,000) with a shared pod dispatcher and heartbeat hub on a store and API
server, and measures the time until every node is registered Ready with its Lease,
the resident memory each idle node adds, the CPU an idle heartbeating cluster uses,
then the time for N x K pods (bound to their nodes, so the data plane alone is
measured) to be reported Running. Goals (issue 7): 5,000 nodes Ready <= 10 s,
<= 30 KB per idle node, < 10% of a core idle, 100,000 pods Running <= 60 s.
`--profile FILE` writes a cProfile of the pod phase (read it with `pstats`).

`--gc-threshold` sets the garbage collector's thresholds for the run (default
50000,20,100; `python` keeps Python's 700,10,10). A cluster holds millions of
long-lived objects and many more that live a few milliseconds (messages, futures):
at Python's thresholds the short-lived ones are promoted and full collections,
each scanning the whole heap, take about half the CPU of the pod phase. See
docs/nodes.md ("A large cluster in one process").
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import resource
import tempfile
import time
from pathlib import Path

import anyio

from benchmarks._report import emit
from kubeactors.actors import ActorSystem
from kubeactors.api import (
    ApiServer,
    Container,
    Lease,
    Node,
    ObjectMeta,
    Pod,
    PodSpec,
    ResourceRequirements,
)
from kubeactors.client import Client, Delta, Informer
from kubeactors.node import HeartbeatHub, Kubelet, NodeSettings, NodeShape, PodDispatcher
from kubeactors.node.runtime import SimulatedRuntime
from kubeactors.store import Store

IDLE_SECONDS = 20.0


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class _GcTimer:
    """Seconds the cyclic garbage collector runs while installed (it stops the world)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _count_until(
    client: Client, kind: type[Pod] | type[Node] | type[Lease], done: object
) -> None:
    """Watch `kind` until `done(informer)` holds."""
    informer: Informer = Informer(client, kind)  # type: ignore[type-arg]
    reached = anyio.Event()

    async def check(_: list[Delta]) -> None:  # type: ignore[type-arg]
        if done(informer):  # type: ignore[operator]
            reached.set()

    informer.add_batch_handler(check)
    async with anyio.create_task_group() as group:
        group.start_soon(informer.run)
        await informer.wait_synced()
        if done(informer):  # type: ignore[operator]
            reached.set()
        await reached.wait()
        group.cancel_scope.cancel()


async def run(nodes: int, pods_per_node: int, profile: str = "") -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    settings = NodeSettings()
    with tempfile.TemporaryDirectory(prefix="kubeactors-bench-") as directory:
        async with ActorSystem(seed=0, ask_timeout=120.0) as system:
            clock = system.clock
            wall_clock = clock.wall
            store = Store.spawn(system.root, Path(directory) / "store.db", synchronous="OFF")
            api = system.spawn(
                lambda: ApiServer(store.ref, wall_clock=wall_clock),
                name="apiserver",
                mailbox_size=ApiServer.mailbox_size,
            )
            client = Client(api)
            dispatcher = system.spawn(lambda: PodDispatcher(client), name="pod-dispatcher")
            heartbeat = system.spawn(
                lambda: HeartbeatHub(
                    client,
                    wall_clock=wall_clock,
                    lease_seconds=settings.lease_seconds,
                    status_seconds=settings.status_seconds,
                ),
                name="heartbeat",
            )
            await _count_until(client, Node, lambda informer: True)
            gc.collect()
            base_rss = _rss_bytes()

            started = time.perf_counter()
            supervisor = system.spawn_supervisor("nodes", max_restarts=max(3, nodes))
            shape = NodeShape(cpu="32", memory="128Gi", pods=110)
            for index in range(nodes):
                name = f"node-{index}"
                runtime = SimulatedRuntime(node=name, clock=clock, wall_clock=wall_clock)

                def make(
                    name: str = name, index: int = index, runtime: SimulatedRuntime = runtime
                ) -> Kubelet:
                    return Kubelet(
                        client,
                        dispatcher,
                        name=name,
                        index=index,
                        shape=shape,
                        wall_clock=wall_clock,
                        settings=settings,
                        runtime=runtime,
                        heartbeat=heartbeat,
                    )

                supervisor.spawn(make, name=name, mailbox_size=Kubelet.mailbox_size)

            def all_ready(informer: Informer) -> bool:  # type: ignore[type-arg]
                if len(informer) < nodes:
                    return False
                return all(
                    any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)
                    for n in informer.items()
                )

            await _count_until(client, Node, all_ready)
            await _count_until(client, Lease, lambda informer: len(informer) >= nodes)
            ready_seconds = time.perf_counter() - started
            rows.append(
                {"name": f"{nodes} nodes Ready (with leases)", "seconds": round(ready_seconds, 2)}
            )

            await anyio.sleep(2.0)  # let the registration traffic settle
            gc.collect()
            per_node = (_rss_bytes() - base_rss) / nodes
            rows.append({"name": "memory per idle node", "kb_per_node": round(per_node / 1024, 1)})

            cpu_before, wall_before = _cpu_seconds(), time.perf_counter()
            await anyio.sleep(IDLE_SECONDS)
            cpu = (_cpu_seconds() - cpu_before) / (time.perf_counter() - wall_before)
            rows.append(
                {
                    "name": f"idle cluster CPU (leases every {settings.lease_seconds:g} s)",
                    "core_percent": round(cpu * 100, 1),
                    "lease_renewals_per_s": round(nodes / settings.lease_seconds),
                }
            )

            total = nodes * pods_per_node
            container = Container(
                name="app",
                image="registry.k8s.io/pause:3.9",
                resources=ResourceRequirements(requests={"cpu": "100m", "memory": "64Mi"}),
            )
            running: set[str] = set()
            reached = anyio.Event()

            async def watch_running() -> None:
                informer: Informer[Pod] = Informer(client, Pod)

                async def on_batch(deltas: list[Delta[Pod]]) -> None:
                    for delta in deltas:
                        key = delta.object.metadata.name
                        if delta.type != "DELETED" and delta.object.status.phase == "Running":
                            running.add(key)
                    if len(running) >= total:
                        reached.set()

                informer.add_batch_handler(on_batch)
                await informer.run()

            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            started, cpu_before = time.perf_counter(), _cpu_seconds()
            gc_timer = _GcTimer()
            gc.callbacks.append(gc_timer)
            async with anyio.create_task_group() as group:
                group.start_soon(watch_running)
                remaining = iter(range(total))

                async def creator() -> None:
                    for number in remaining:
                        pod = Pod(
                            metadata=ObjectMeta(name=f"pod-{number}", namespace="default"),
                            spec=PodSpec(
                                containers=[container], node_name=f"node-{number % nodes}"
                            ),
                        )
                        await client.create(pod)

                async with anyio.create_task_group() as creators:
                    for _ in range(256):
                        creators.start_soon(creator)
                created_seconds = time.perf_counter() - started
                await reached.wait()
                group.cancel_scope.cancel()
            running_seconds = time.perf_counter() - started
            pods_cpu = _cpu_seconds() - cpu_before
            gc.callbacks.remove(gc_timer)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
            rows.append(
                {
                    "name": f"{total} pods bound to nodes -> Running",
                    "seconds": round(running_seconds, 2),
                    "created_seconds": round(created_seconds, 2),
                    "cpu_seconds": round(pods_cpu, 2),
                    "gc_seconds": round(gc_timer.seconds, 2),
                    "pods_per_s": round(total / running_seconds),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=20)
    parser.add_argument("--profile", default="", help="write a cProfile of the pod phase here")
    parser.add_argument(
        "--gc-threshold",
        default="50000,20,100",
        help='gc.set_threshold for the run, "python" for the interpreter\'s default',
    )
    args = parser.parse_args()
    if args.gc_threshold != "python":
        try:
            thresholds = [int(part) for part in args.gc_threshold.split(",")]
        except ValueError:
            parser.error(f"--gc-threshold: not integers: {args.gc_threshold!r}")
        gc.set_threshold(*thresholds)
    rows = asyncio.run(run(args.nodes, args.pods_per_node, args.profile))
    emit("simulated nodes (issue 7)", rows)


if __name__ == "__main__":
    main()
