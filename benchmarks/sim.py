"""Simulation on the virtual clock: how much virtual time a second of wall time buys.

`python -m benchmarks.sim`: two scenarios, each run twice to show the same trace hash.
- heartbeats: 1,000 actors each beating every 10 s for a virtual hour (the runtime
  alone: timers, the clock's idle detection, message delivery);
- cluster: a `Cluster` of 200 nodes on the virtual clock, 2,000 pods created,
  scheduled and started, then ten virtual minutes of heartbeats and status.
The issue's goal (5,000 nodes, a 20,000-replica Deployment, a virtual hour in 60 s)
needs the controllers and node leases on the virtual clock first.
"""

from __future__ import annotations

import asyncio
import time

import msgspec

from benchmarks._report import emit
from kubeactors.actors import Actor, ActorSystem, VirtualClock
from kubeactors.cluster import Cluster
from kubeactors.testing import api_history, history_digest

HEARTBEAT_ACTORS = 1_000
HEARTBEAT_INTERVAL = 10.0
VIRTUAL_HOUR = 3600.0
CLUSTER_NODES = 200
CLUSTER_PODS = 2_000
CLUSTER_AFTER = 600.0


class Beat(msgspec.Struct, frozen=True):
    pass


class Heart(Actor[Beat]):
    """Beats at a random phase, then every interval; records each beat in the trace."""

    async def on_start(self) -> None:
        phase = self.context.random.uniform(0.0, HEARTBEAT_INTERVAL)
        self.context.send_later(phase, Beat())

    async def receive(self, message: Beat) -> None:
        self.context.trace.record("beat", self.context.name)
        self.context.send_later(HEARTBEAT_INTERVAL, Beat())


async def heartbeats(seed: int) -> tuple[float, int, str]:
    """Wall seconds, beats and trace hash of a virtual hour of heartbeats."""
    clock = VirtualClock()
    started = time.perf_counter()
    async with ActorSystem(clock=clock, seed=seed, trace=True) as system:
        for index in range(HEARTBEAT_ACTORS):
            system.spawn(Heart, name=f"heart-{index}", mailbox_size=4)
        await clock.sleep(VIRTUAL_HOUR)
    return time.perf_counter() - started, system.trace.count, system.trace.digest


async def cluster(seed: int) -> tuple[float, int, str]:
    """Wall seconds, API writes and history hash of the cluster scenario."""
    started = time.perf_counter()
    async with Cluster(nodes=CLUSTER_NODES, clock="virtual", seed=seed) as running:
        await running.create_pods(CLUSTER_PODS, concurrency=64)
        await running.wait_until_running(CLUSTER_PODS, timeout=3600.0)
        await running.clock.sleep(CLUSTER_AFTER)
        elapsed = time.perf_counter() - started
        lines = await api_history(running.client)
    return elapsed, len(lines), history_digest(lines)


def main() -> None:
    rows: list[dict[str, object]] = []
    runs = [asyncio.run(heartbeats(seed=1)) for _ in range(2)]
    wall = min(seconds for seconds, _, _ in runs)
    rows.append(
        {
            "name": f"heartbeats: {HEARTBEAT_ACTORS} actors, every 10 s, 1 virtual hour",
            "wall_s": round(wall, 2),
            "virtual_s_per_wall_s": round(VIRTUAL_HOUR / wall),
            "events_per_s": round(runs[0][1] / wall),
            "us_per_event": round(wall / runs[0][1] * 1e6, 1),
            "events": runs[0][1],
            "hash": runs[0][2][:16],
            "same_hash_twice": runs[0][2] == runs[1][2],
        }
    )
    runs = [asyncio.run(cluster(seed=1)) for _ in range(2)]
    wall = min(seconds for seconds, _, _ in runs)
    rows.append(
        {
            "name": f"cluster: {CLUSTER_NODES} nodes, {CLUSTER_PODS} pods, then 10 virtual min",
            "wall_s": round(wall, 2),
            "api_writes": runs[0][1],
            "hash": runs[0][2][:16],
            "same_hash_twice": runs[0][2] == runs[1][2],
        }
    )
    emit("simulation on the virtual clock", rows)


if __name__ == "__main__":
    main()
