"""Simulation on the virtual clock: how much virtual time a second of wall time buys.

`python -m benchmarks.sim [--nodes N] [--replicas R] [--until 1h] [--runs 2]`:
- heartbeats: 1,000 actors each beating every 10 s for a virtual hour (the runtime
  alone: timers, the clock's idle detection, message delivery);
- the issue's goal, as a scenario (`kubeactors.sim`): one virtual hour of 5,000
  nodes (leases every 10 s, status every minute), a Deployment of 20,000 replicas
  and a node failure every minute (each failed node back after 10 minutes), its
  invariants checked at the end. Goal: <= 60 s of wall time. Each scenario runs
  twice, in a fresh event loop each time, and both trace hashes are printed: they
  must be equal.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time

import msgspec

from benchmarks._report import emit
from kubeactors._gc import relaxed_gc
from kubeactors.actors import Actor, ActorSystem, VirtualClock
from kubeactors.sim import SimReport, format_duration, parse_duration, parse_scenario, run_scenario

HEARTBEAT_ACTORS = 1_000
HEARTBEAT_INTERVAL = 10.0
VIRTUAL_HOUR = 3600.0
# The goal: every run of this shape (nodes, replicas, virtual seconds) within this
# many seconds of wall time.
GOAL_SHAPE = (5_000, 20_000, VIRTUAL_HOUR)
GOAL_WALL_S = 60

GOAL = """
name: goal-{nodes}-nodes
until: {until}
sample_every: 1m
check_every: {until}
cluster:
  nodes:
    - {{name: a, count: {zone_nodes}, zone: zone-a}}
    - {{name: b, count: {zone_nodes}, zone: zone-b}}
    - {{name: c, count: {zone_nodes}, zone: zone-c}}
    - {{name: d, count: {zone_nodes}, zone: zone-d}}
    - {{name: e, count: {zone_nodes}, zone: zone-e}}
  lease_every: 10s
  status_every: 1m
workloads:
  - {{type: deployment, name: web, replicas: {replicas}, cpu: 100m, memory: 128Mi}}
faults:
  - {{type: node-crash, at: 1m, every: 1m, count: 1, for: 10m}}
"""


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


def goal(nodes: int, replicas: int, until: float, seed: int) -> tuple[float, float, SimReport]:
    """Wall seconds, CPU seconds (all threads) and report of one run of the goal
    scenario, in a fresh event loop. On a shared machine the CPU seconds are the
    steadier figure: the wall time also holds the waits for a core."""
    text = GOAL.format(
        nodes=nodes,
        zone_nodes=max(1, nodes // 5),
        replicas=replicas,
        until=format_duration(until),
    )
    scenario = parse_scenario(text)
    # The previous run's cyclic garbage (its whole cluster) is not this run's cost.
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    with relaxed_gc():
        report = asyncio.run(run_scenario(scenario, seed=seed))
    return time.perf_counter() - started, time.process_time() - cpu, report


def meets_goal(shape: tuple[int, int, float], walls: list[float], hashes: list[str]) -> bool | None:
    """Whether every run of the goal took at most `GOAL_WALL_S` and all gave one trace
    hash; None for another shape, which the goal does not speak of."""
    if shape != GOAL_SHAPE:
        return None
    return bool(walls) and max(walls) <= GOAL_WALL_S and len(set(hashes)) == 1


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sim")
    nodes, replicas, until = GOAL_SHAPE
    parser.add_argument("--nodes", type=int, default=nodes, help="nodes (five zones)")
    parser.add_argument("--replicas", type=int, default=replicas, help="Deployment replicas")
    parser.add_argument("--until", type=parse_duration, default=until, help="virtual time")
    parser.add_argument("--runs", type=int, default=2, help="runs of the goal scenario")
    parser.add_argument("--no-heartbeats", action="store_true", help="skip the runtime alone")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    if not args.no_heartbeats:
        beats = [asyncio.run(heartbeats(seed=1)) for _ in range(2)]
        wall = min(seconds for seconds, _, _ in beats)
        rows.append(
            {
                "name": f"heartbeats: {HEARTBEAT_ACTORS} actors, every 10 s, 1 virtual hour",
                "wall_s": round(wall, 2),
                "virtual_s_per_wall_s": round(VIRTUAL_HOUR / wall),
                "events_per_s": round(beats[0][1] / wall),
                "events": beats[0][1],
                "hash": beats[0][2][:16],
                "same_hash_twice": beats[0][2] == beats[1][2],
            }
        )
    runs = []
    for index in range(args.runs):
        runs.append(goal(args.nodes, args.replicas, args.until, seed=1))
        wall_s, cpu_s, done = runs[-1]
        # A run of the goal takes minutes: say each as it ends, not only at the end.
        print(
            f"run {index + 1}: {wall_s:.1f} s wall, {cpu_s:.1f} s CPU, trace {done.trace_hash}",
            file=sys.stderr,
            flush=True,
        )
    hashes = [report.trace_hash for _, _, report in runs]
    walls = [seconds for seconds, _, _ in runs]
    wall = min(walls)
    cpu = min(seconds for _, seconds, _ in runs)
    report = runs[0][2]
    rows.append(
        {
            "name": (
                f"goal: {args.nodes} nodes, {args.replicas} replicas, a node failure a "
                f"minute, {format_duration(args.until)} virtual"
            ),
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),
            # The goal holds for every run, not for the best of them: say each.
            "runs_wall_s": [round(seconds, 1) for seconds in walls],
            "goal_wall_s": GOAL_WALL_S,
            "goal_met": meets_goal((args.nodes, args.replicas, args.until), walls, hashes),
            "load_1m": round(os.getloadavg()[0], 2),
            "virtual_s_per_wall_s": round(args.until / wall, 1),
            "pods_scheduled": report.pods_scheduled,
            "evictions": report.evictions,
            "faults": len(report.faults),
            "violations": len(report.violations),
            "api_writes": report.api_writes,
            "hashes": " ".join(h[:16] for h in hashes),
            "same_hash": len(set(hashes)) == 1,
        }
    )
    emit("simulation on the virtual clock", rows)


if __name__ == "__main__":
    main()
