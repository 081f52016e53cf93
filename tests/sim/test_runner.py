import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec

from kubeactors.sim import SimReport, parse_scenario, run_scenario
from kubeactors.sim.runner import cluster_for, play
from kubeactors.testing import api_history, history_digest

from ._scenarios import CRASH, TROUBLES

ROOT = Path(__file__).resolve().parents[2]


async def _run(text: str, seed: int) -> SimReport:
    return await run_scenario(parse_scenario(text), seed=seed, keep_trace=True)


def test_one_seed_gives_the_same_trace_byte_for_byte_and_another_seed_does_not() -> None:
    # Both runs in one event loop: timers due at the same virtual instant fire in the
    # order they were set, so what the first run left in the loop's timer heap does
    # not change the second.
    async def twice() -> tuple[SimReport, SimReport]:
        return await _run(CRASH, seed=1), await _run(CRASH, seed=1)

    first, second = asyncio.run(twice())
    other = asyncio.run(_run(CRASH, seed=2))
    assert len(first.trace) >= 50
    assert "\n".join(first.trace).encode() == "\n".join(second.trace).encode()
    assert first.trace_hash == second.trace_hash
    # Not only the trace: every figure of the report follows from the seed.
    assert msgspec.json.encode(first) == msgspec.json.encode(second)
    assert other.trace_hash != first.trace_hash


def test_another_process_with_other_hash_seeds_replays_the_same_run(tmp_path: Path) -> None:
    """Set orders of strings change with the process's hash seed: they must not leak
    into a run. This process's seed is random; the other's is fixed."""
    path = tmp_path / "crash.yaml"
    path.write_text(CRASH)
    here = asyncio.run(_run(CRASH, seed=1))
    finished = subprocess.run(
        [sys.executable, "-m", "kubeactors.cli", "sim", str(path), "--seed", "1", "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "1"},
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    )
    elsewhere = json.loads(finished.stdout)
    assert elsewhere["trace_hash"] == here.trace_hash
    assert elsewhere["api_writes"] == here.api_writes


async def test_a_crashed_node_has_its_pods_evicted_and_the_cluster_recovers() -> None:
    report = await _run(CRASH, seed=3)
    assert report.nodes == 4
    (fault,) = report.faults
    assert (fault.kind, fault.target, fault.at, fault.ends) == ("node-crash", "node-0", 120, 600)
    # Its pods stop serving at once; they are evicted 40 s (grace) + 60 s (toleration)
    # later, at the soonest, and replaced elsewhere.
    assert fault.impact_s == 0
    assert fault.recovered_s is not None
    assert 100 <= fault.recovered_s < 480
    assert report.evictions >= 1
    by_time = {sample.t: sample for sample in report.samples}
    assert by_time[60].nodes_ready == 4
    assert by_time[300].nodes_ready == 3
    assert by_time[900].nodes_ready == 4
    assert by_time[300].evictions == report.evictions
    # Scheduled: the Deployment, its replacements, the churned ones' and three batch pods.
    assert report.pods_scheduled >= 8 + report.evictions + 3
    # Every batch pod succeeds but one the crash takes (where the scheduler puts them
    # is its own business: default spreading, for one, moves the Deployment's pods).
    lost = sum(" DELETED Pod default/job-" in line for line in report.trace)
    assert lost <= 1
    assert report.pods_succeeded == 3 - lost
    assert report.checks == 3
    assert report.violations == []
    assert len(report.samples) == 31


async def test_a_partition_a_crash_loop_and_a_slow_store_each_show_in_the_report() -> None:
    report = await _run(TROUBLES, seed=1)
    partition, crash_loop, slow = report.faults
    # A 2 minute partition: the node goes Unknown, but its pods tolerate that for 5.
    assert partition.kind == "partition"
    assert partition.impact_s is None
    assert report.evictions == 0
    by_time = {sample.t: sample for sample in report.samples}
    assert by_time[150].nodes_ready == 2
    assert by_time[240].nodes_ready == 3
    # A bad rollout: new pods never Ready, until the template is mended.
    assert crash_loop.impact_s == 0
    assert crash_loop.recovered_s is not None
    assert 240 <= crash_loop.recovered_s < 300
    assert by_time[420].running > by_time[420].ready
    # Store requests 50 s late: leases too, so the nodes look silent for longer than
    # their 40 s grace and are marked Unknown (the mark itself lands 50 s late).
    assert slow.impact_s is not None
    assert slow.impact_s >= 40
    assert slow.recovered_s is not None
    assert slow.recovered_s >= slow.impact_s


async def test_the_trace_recorded_during_the_run_is_the_api_history_read_back() -> None:
    scenario = parse_scenario(TROUBLES)
    async with cluster_for(scenario, seed=2) as cluster:
        report = await play(cluster, scenario, seed=2, until=300.0, keep_trace=True)
        history = await api_history(cluster.client)
    assert len(history) >= 30
    # A write committed at the run's last instant may reach the run's informers only
    # after the run ends: the trace is the history up to the last write it saw.
    last = int(report.trace[-1].split()[0])
    seen = [line for line in history if int(line.split()[0]) <= last]
    assert len(history) - len(seen) <= 2
    assert report.trace == seen
    assert report.trace_hash == history_digest(seen)
