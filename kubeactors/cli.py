"""The `kubeactors` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ._gc import relaxed_gc
from ._serve_cli import add_serve_commands, run_serve_command
from ._switching import prompt_thread_switches
from .api import QuantityError, parse_cpu, parse_memory
from .cluster import Cluster
from .node import NodeShape

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _cpu(text: str) -> str:
    try:
        parse_cpu(text)
    except QuantityError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _memory(text: str) -> str:
    try:
        parse_memory(text)
    except QuantityError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubeactors",
        description="A Kubernetes control plane and data plane as an asyncio actor system.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="start a cluster, create pods, wait until all run, report the throughput",
    )
    run.add_argument("--nodes", type=_positive_int, default=100, help="simulated nodes")
    run.add_argument("--pods", type=_positive_int, default=1000, help="pods to create")
    run.add_argument("--cpu", type=_cpu, default="100m", help="CPU request of each pod")
    run.add_argument("--memory", type=_memory, default="128Mi", help="memory request of each pod")
    run.add_argument("--node-cpu", type=_cpu, default="4", help="CPU of each node")
    run.add_argument("--node-memory", type=_memory, default="16Gi", help="memory of each node")
    run.add_argument("--node-pods", type=_positive_int, default=110, help="pods per node")
    run.add_argument("--seed", type=int, default=0, help="seed of the cluster's randomness")
    run.add_argument("--data-dir", type=Path, default=None, help="keep the store here")
    run.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for Running")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    add_serve_commands(commands, count=_positive_int, port=_port, cpu=_cpu, memory=_memory)

    sim = commands.add_parser(
        "sim",
        help="play a scenario (YAML) on the virtual clock and report what happened",
        description="Play a scenario on a cluster on the virtual clock (see docs/scenarios.md). "
        "Exits 1 if an invariant was violated, 2 if the scenario cannot be read.",
    )
    sim.add_argument("scenario", type=Path, help="the scenario's YAML file")
    sim.add_argument("--seed", type=int, default=0, help="seed of the run's randomness")
    sim.add_argument(
        "--until",
        type=_duration,
        default=None,
        help="virtual time to run (default: the scenario's)",
    )
    sim.add_argument(
        "--plot", type=Path, default=None, help="draw the cluster over time here (PNG)"
    )
    sim.add_argument("--json", action="store_true", help="print the whole report as JSON")
    sim.add_argument("--no-progress", action="store_true", help="no progress bar")

    etcd = commands.add_parser("etcd", help="serve etcd's v3 gRPC API over a store", add_help=False)
    etcd.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _duration(text: str) -> float:
    from .sim import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port (0..65535): {text!r}")
    return value


async def _run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    shape = NodeShape(cpu=args.node_cpu, memory=args.node_memory, pods=args.node_pods)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=args.no_progress,
        transient=True,
    )
    async with Cluster(
        nodes=args.nodes, node_shape=shape, seed=args.seed, data_dir=args.data_dir
    ) as cluster:
        clock = cluster.clock
        with progress:
            created = progress.add_task("created", total=args.pods)
            running = progress.add_task("running", total=args.pods)
            start = clock.now()
            async with anyio.create_task_group() as group:
                group.start_soon(
                    lambda: cluster.create_pods(
                        args.pods,
                        cpu=args.cpu,
                        memory=args.memory,
                        on_created=lambda _: progress.advance(created),
                    )
                )
                await cluster.wait_until_running(
                    args.pods,
                    timeout=args.timeout,
                    on_progress=lambda count: progress.update(running, completed=count),
                )
            elapsed = clock.now() - start
        snapshot = await cluster.scheduler_snapshot()
    return {
        "name": "run",
        "nodes": args.nodes,
        "pods": args.pods,
        "seconds_to_running": round(elapsed, 3),
        "pods_per_s": round(args.pods / elapsed, 1) if elapsed > 0 else 0.0,
        "bind_failures": snapshot.bind_failures,
    }


async def _simulate(args: argparse.Namespace, scenario: Any, console: Console) -> Any:
    from .sim import run_scenario

    until = args.until if args.until is not None else scenario.until
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} virtual s"),
        TimeElapsedColumn(),
        console=console,
        disable=args.no_progress,
        transient=True,
    )
    with progress:
        task = progress.add_task(scenario.name or "scenario", total=until)
        return await run_scenario(
            scenario,
            seed=args.seed,
            until=until,
            on_sample=lambda sample: progress.update(task, completed=sample.t),
        )


def _sim(args: argparse.Namespace, console: Console) -> int:
    """`kubeactors sim`: run the scenario, print the report, draw the plot."""
    import time

    from .sim import ScenarioError, load_scenario
    from .sim._table import report_tables

    try:
        scenario = load_scenario(args.scenario)
    except (OSError, ScenarioError) as error:
        console.print(f"kubeactors sim: {error}", style="red", markup=False, highlight=False)
        return 2
    if args.plot is not None:
        from .sim.plot import PlotUnavailable, _figure_class

        try:
            _figure_class()  # fail before a long run, not after it
        except PlotUnavailable as error:
            console.print(f"kubeactors sim: {error}", style="red", markup=False, highlight=False)
            return 2
    started = time.perf_counter()
    report = anyio.run(_simulate, args, scenario, console)
    wall = time.perf_counter() - started
    if args.plot is not None:
        from .sim.plot import plot_report

        plot_report(report, args.plot)
    if args.json:
        print(json.dumps({**msgspec.to_builtins(report), "wall_s": round(wall, 3)}), flush=True)
    else:
        out = Console(width=max(100, Console().width))
        for table in report_tables(report, wall):
            out.print(table)
        print(f"trace hash: {report.trace_hash}", flush=True)
    return 1 if report.violations else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # `kubeactors etcd ...` hands everything after `etcd` to etcd's own parser as is
    # (argparse would take options such as `--help` that precede a REMAINDER itself).
    first = next((i for i, arg in enumerate(arguments) if not arg.startswith("-")), None)
    if first is not None and arguments[first] == "etcd":
        from .etcd import main as etcd_main

        return etcd_main(arguments[first + 1 :])
    args = _parser().parse_args(arguments)
    level = logging.WARNING - 10 * args.verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )
    console = Console(stderr=True)
    # Every command runs a cluster (or a store) of many long-lived objects: Python's
    # default thresholds would spend about half its CPU rescanning them. And every
    # write waits for a commit in the store's thread, which must not wait 5 ms for
    # the GIL each time it asks.
    with relaxed_gc(), prompt_thread_switches():
        return _command(args, console)


def _command(args: argparse.Namespace, console: Console) -> int:
    if args.command == "etcd":  # `kubeactors -v etcd`: only reached when options precede it
        from .etcd import main as etcd_main

        return etcd_main(args.args)
    served = run_serve_command(args, console)
    if served is not None:
        return served
    if args.command == "sim":
        return _sim(args, console)
    if args.command == "run":
        try:
            result = anyio.run(_run, args, console)
        except TimeoutError as error:
            console.print(f"[red]kubeactors run: {error}[/red]")
            return 1
        try:
            print(
                f"{result['pods']} pods on {result['nodes']} nodes Running in "
                f"{result['seconds_to_running']:.2f} s: {result['pods_per_s']:.0f} pods/s"
            )
            print(json.dumps(result), flush=True)
        except BrokenPipeError:
            # The reader left early (`kubeactors run | head -1`): not an error of ours.
            # Point stdout at nothing so that the interpreter's final flush is quiet.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
