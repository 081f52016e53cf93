"""Scheduler throughput in the terms of upstream's scheduler_perf.

`python -m benchmarks.scheduler [--quick] [--workload NAME ...] [--list] [--output FILE]`

Reads `benchmarks/workloads/performance-config.yaml` (upstream's config format: test
cases with a `workloadTemplate` of ops and named `workloads` with `params`) and runs
each workload through the real store, API server and scheduler (no kubelets: nodes
are objects, as upstream's fake nodes). A pod counts as scheduled once its binding
is stored and seen by a watch of pods (a plain watch, no informer: the benchmark's
own counting costs little beside the scheduler's). Throughput is
sampled every second (the first sample skipped; a last partial second is scaled);
Average/Perc50/90/95/99 pods/s as upstream, plus scheduling-attempt latency
percentiles and the peak RSS. A workload using an op or a template field we do not
support is reported by name and skipped. The process collects garbage and
switches threads as the `kubeactors` command does (`relaxed_gc`,
`prompt_thread_switches`); `--gc python` keeps the interpreter's default collection.

Last, SchedulingBasic 5000 nodes is run again for the vectorised/reference ratio
(`--ratio` for that alone): per attempt, both engines place the measured pods of
that run on copies of its nodes and earlier pods, batch by batch in turn, timed in
CPU time (`benchmarks._engine_ratio`); end to end, the workload is run once more
with the reference engine.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import msgspec
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks._engine_ratio import compare_engines
from benchmarks._report import emit
from kubeactors._gc import relaxed_gc
from kubeactors._switching import prompt_thread_switches
from kubeactors.actors import ActorSystem
from kubeactors.api import (
    KINDS,
    ApiError,
    ApiServer,
    Namespace,
    Node,
    ObjectMeta,
    Pod,
    PriorityClass,
)
from kubeactors.client import Client
from kubeactors.scheduler import Inspect, Scheduler, SchedulerSnapshot
from kubeactors.store import Store

OPS: dict[str, set[str]] = {
    "createNodes": {
        "opcode",
        "count",
        "countParam",
        "nodeTemplatePath",
        "labelNodePrepareStrategy",
        "uniqueNodeLabelStrategy",
    },
    "createNamespaces": {"opcode", "prefix", "count", "countParam", "namespaceTemplatePath"},
    "createPods": {
        "opcode",
        "count",
        "countParam",
        "podTemplatePath",
        "namespace",
        "collectMetrics",
        "skipWaitToCompletion",
    },
    "deletePods": {"opcode", "namespace", "deletePodsPerSecond"},
    "churn": {"opcode", "mode", "number", "templatePaths", "intervalMilliseconds"},
    "barrier": {"opcode", "namespaces"},
    "sleep": {"opcode", "duration", "durationParam"},
    "startCollectingMetrics": {"opcode", "name", "namespaces"},
    "stopCollectingMetrics": {"opcode"},
}
"""The ops we run, with the fields each may carry."""

WAIT_TIMEOUT = 120.0
"""Seconds a createPods op may wait for its pods to be scheduled."""


class Unsupported(Exception):
    """A workload uses an op, a field or a template field we cannot honour."""


def _load_template(base: Path, relative: str) -> dict[str, Any]:
    data = yaml.safe_load((base / relative).read_text())
    if not isinstance(data, dict):
        raise Unsupported(f"template {relative}: not a manifest")
    return data


def _lost_fields(data: Any, kept: Any, path: str) -> list[str]:
    """Fields of `data` that decoding into our types dropped."""
    if isinstance(data, dict):
        if not isinstance(kept, dict):
            return [path] if data else []
        lost = []
        for key, value in data.items():
            if key not in kept:
                if value not in ({}, [], "", None, 0, False):
                    lost.append(f"{path}.{key}".lstrip("."))
            else:
                lost.extend(_lost_fields(value, kept[key], f"{path}.{key}"))
        return lost
    if isinstance(data, list) and isinstance(kept, list):
        lost = []
        for index, (item, kept_item) in enumerate(zip(data, kept, strict=False)):
            lost.extend(_lost_fields(item, kept_item, f"{path}[{index}]"))
        return lost
    return []


def _decode_template(base: Path, relative: str) -> Any:
    data = _load_template(base, relative)
    try:
        kind = KINDS.of_kind(data.get("apiVersion", "v1"), data.get("kind", ""))
    except Exception as error:
        raise Unsupported(f"template {relative}: {error}") from None
    try:
        obj = msgspec.convert(data, kind.type)
    except msgspec.ValidationError as error:
        raise Unsupported(f"template {relative}: {error}") from None
    lost = _lost_fields(data, msgspec.to_builtins(obj), "")
    if lost:
        raise Unsupported(f"template {relative}: unsupported field {lost[0]}")
    return obj


def check_workload(case: dict[str, Any], workload: dict[str, Any], base: Path) -> None:
    """Raise `Unsupported` naming the first op, field or template field we cannot run."""
    params = workload.get("params") or {}
    for index, op in enumerate(case.get("workloadTemplate") or ()):
        code = op.get("opcode")
        if code not in OPS:
            raise Unsupported(f"op {code!r} (workloadTemplate[{index}])")
        extra = set(op) - OPS[code]
        if extra:
            raise Unsupported(f"field {sorted(extra)[0]!r} of op {code}")
        parameter = op.get("countParam")
        if parameter is not None and parameter.lstrip("$") not in params:
            raise Unsupported(f"param {parameter} of op {code} has no value")
        for path in op.get("templatePaths") or ():
            _decode_template(base, path)
        for field in ("nodeTemplatePath", "podTemplatePath"):
            if field in op:
                _decode_template(base, op[field])
    if "defaultPodTemplatePath" in case:
        _decode_template(base, case["defaultPodTemplatePath"])


class Result(msgspec.Struct):
    measured: int = 0
    scheduled: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of the whole process (every actor, the store's thread) while measuring."""
    samples: list[float] = msgspec.field(default_factory=list)
    attempt_seconds: list[float] = msgspec.field(default_factory=list)
    incomplete: str = ""
    engines: dict[str, Any] = msgspec.field(default_factory=dict)
    """With `compare`: both engines on the measured pods (`compare_engines`)."""


class WorkloadRun:
    """One workload: a fresh store, API server and scheduler; the ops in order."""

    def __init__(
        self,
        name: str,
        case: dict[str, Any],
        workload: dict[str, Any],
        base: Path,
        directory: Path,
        engine: str,
        progress: Progress,
        compare: bool = False,
    ) -> None:
        self.name = name
        self.compare = compare
        self.measured_namespaces: set[str] = set()
        self.cluster: tuple[list[Node], list[Pod], list[Pod]] | None = None
        self.case = case
        self.params = workload.get("params") or {}
        self.base = base
        self.directory = directory
        self.engine = engine
        self.progress = progress
        self.result = Result()
        self.scheduled: dict[str, set[str]] = {}
        self.changed = anyio.Event()
        self.namespaces: set[str] = {"default"}

    def _count(self, op: dict[str, Any]) -> int:
        if "countParam" in op:
            return int(self.params[op["countParam"].lstrip("$")])
        return int(op.get("count", 0))

    async def run(self) -> Result:
        async with ActorSystem(seed=0) as system:
            self.clock = system.clock
            store = Store.spawn(system.root, self.directory / "store.db")
            api = system.spawn(
                lambda: ApiServer(store.ref, wall_clock=_wall_clock),
                name="apiserver",
                mailbox_size=ApiServer.mailbox_size,
            )
            self.client = Client(api, timeout=60.0)
            self.scheduler = system.spawn(
                # No kubelet finishes a victim's termination here: evict at once.
                lambda: Scheduler(self.client, engine=self.engine, preemption_grace_seconds=0),
                name="scheduler",
                mailbox_size=Scheduler.mailbox_size,
            )
            async with anyio.create_task_group() as group:
                self.group = group
                watching = anyio.Event()
                group.start_soon(self._count_scheduled, watching)
                await watching.wait()
                for item in yaml.safe_load(
                    (self.base / "templates/priority-classes.yaml").read_text()
                ):
                    await self.client.create(msgspec.convert(item, PriorityClass))
                for index, op in enumerate(self.case.get("workloadTemplate") or ()):
                    await self._op(index, op)
                    if self.result.incomplete:
                        break
                if self.compare and not self.result.incomplete:
                    await self._keep_cluster()
                group.cancel_scope.cancel()
        if self.cluster is not None:
            self.result.engines = compare_engines(*self.cluster)
        return self.result

    async def _count_scheduled(self, watching: anyio.Event) -> None:
        """Count each pod once its binding is stored, from a watch of pods (one that
        expires is started again; counting a pod twice is harmless). No field
        selector: matching one would decode each event's previous object too."""
        while True:
            try:
                watch = await self.client.watch(Pod)
                watching.set()
                async for batch in watch:
                    for event in batch:
                        pod = event.object
                        if event.type != "DELETED" and pod.spec.node_name:
                            meta = pod.metadata
                            self.scheduled.setdefault(meta.namespace, set()).add(meta.name)
                    self.changed.set()
                    self.changed = anyio.Event()
            except ApiError as error:
                if error.code != 410:
                    raise

    async def _keep_cluster(self) -> None:
        """The nodes, the pods bound before the measured ones, the measured pods."""
        nodes = (await self.client.list(Node)).items
        pods = (await self.client.list(Pod)).items
        measured = sorted(
            (p for p in pods if p.metadata.namespace in self.measured_namespaces),
            key=lambda pod: pod.metadata.name,
        )
        before = [
            p
            for p in pods
            if p.metadata.namespace not in self.measured_namespaces and p.spec.node_name
        ]
        self.cluster = (nodes, before, measured)

    async def _op(self, index: int, op: dict[str, Any]) -> None:
        match op["opcode"]:
            case "createNodes":
                await self._create_nodes(op)
            case "createNamespaces":
                for number in range(self._count(op)):
                    await self._namespace(f"{op.get('prefix', 'namespace')}-{number}")
            case "createPods":
                await self._create_pods(index, op)
            case "deletePods":
                namespace = op["namespace"]
                for pod in (await self.client.list(Pod, namespace)).items:
                    await self.client.delete(Pod, pod.metadata.name, namespace)
            case "churn":
                self.group.start_soon(self._churn, op)
            case "sleep":
                await self.clock.sleep(_seconds(op.get("duration", "0s")))
            case _:  # barrier and the metrics ops: createPods waits and measures itself
                pass

    async def _namespace(self, name: str) -> None:
        if name in self.namespaces:
            return
        try:
            await self.client.create(Namespace(metadata=ObjectMeta(name=name)))
        except ApiError as error:
            if error.code != 409:
                raise
        self.namespaces.add(name)

    async def _create_many(self, template: Any, count: int, label: str, mutate: Any = None) -> None:
        task = self.progress.add_task(f"{self.name}: {label}", total=count)
        numbers = iter(range(count))

        async def worker() -> None:
            # The bar moves every 64 creates: rich's advance takes a lock and costs
            # microseconds, which would be counted in each measured pod's CPU.
            done = 0
            for number in numbers:
                obj = mutate(template, number) if mutate is not None else template
                await self.client.create(obj)
                done += 1
                if done == 64:
                    self.progress.advance(task, done)
                    done = 0
            self.progress.advance(task, done)

        async with anyio.create_task_group() as group:
            for _ in range(min(256, max(count, 1))):
                group.start_soon(worker)
        self.progress.remove_task(task)

    async def _create_nodes(self, op: dict[str, Any]) -> None:
        template = _decode_template(
            self.base, op.get("nodeTemplatePath", "templates/node-default.yaml")
        )
        count = self._count(op)
        labelled = op.get("labelNodePrepareStrategy")
        unique = op.get("uniqueNodeLabelStrategy")

        def mutate(node: Any, number: int) -> Any:
            labels = dict(node.metadata.labels)
            if labelled:
                values = labelled["labelValues"]
                labels[labelled["labelKey"]] = values[number % len(values)]
            if unique:
                labels[unique["labelKey"]] = f"{unique['labelKey']}-{number}"
            meta = msgspec.structs.replace(
                node.metadata, name=f"node-{number}", generate_name="", labels=labels
            )
            return msgspec.structs.replace(node, metadata=meta)

        await self._create_many(template, count, "nodes", mutate)
        total = count
        with anyio.fail_after(WAIT_TIMEOUT):
            while (await self.scheduler.ask(Inspect)).nodes < total:
                await self.clock.sleep(0.05)

    async def _create_pods(self, index: int, op: dict[str, Any]) -> None:
        path = (
            op.get("podTemplatePath")
            or self.case.get("defaultPodTemplatePath")
            or "templates/pod-default.yaml"
        )
        template = _decode_template(self.base, path)
        namespace = op.get("namespace") or f"namespace-{index}"
        await self._namespace(namespace)
        template = msgspec.structs.replace(
            template, metadata=msgspec.structs.replace(template.metadata, namespace=namespace)
        )
        count = self._count(op)
        collect = bool(op.get("collectMetrics"))
        if collect:
            self.measured_namespaces.add(namespace)
        before = (await self.scheduler.ask(Inspect)).attempts
        start = self.clock.now()
        cpu_start = _cpu_seconds()
        async with anyio.create_task_group() as group:
            group.start_soon(self._create_many, template, count, f"pods in {namespace}")
            if op.get("skipWaitToCompletion"):
                return
            samples = await self._wait_scheduled(namespace, count, collect)
        if not collect:
            return
        snapshot: SchedulerSnapshot = await self.scheduler.ask(
            lambda reply: Inspect(reply, latencies=True)
        )
        done = len(self.scheduled.get(namespace, ()))
        self.result = msgspec.structs.replace(
            self.result,
            measured=self.result.measured + count,
            scheduled=self.result.scheduled + done,
            seconds=self.result.seconds + (self.clock.now() - start),
            cpu_seconds=self.result.cpu_seconds + (_cpu_seconds() - cpu_start),
            samples=self.result.samples + samples,
            attempt_seconds=self.result.attempt_seconds
            + snapshot.attempt_seconds[-(snapshot.attempts - before) :],
        )
        if done < count:
            self.result.incomplete = f"{done}/{count} pods scheduled in {WAIT_TIMEOUT:.0f} s"

    async def _wait_scheduled(self, namespace: str, count: int, collect: bool) -> list[float]:
        """Wait until `count` pods of `namespace` are scheduled; sample the throughput."""
        task = self.progress.add_task(f"{self.name}: scheduled", total=count)
        samples: list[float] = []
        clock = self.clock
        last_time, last_count = clock.now(), 0
        deadline = last_time + WAIT_TIMEOUT
        next_sample = last_time + 1.0
        while True:
            done = len(self.scheduled.get(namespace, ()))
            self.progress.update(task, completed=done)
            now = clock.now()
            if done >= count or now >= deadline:
                # A last partial interval counts only if long enough to mean something.
                if done > last_count and now - last_time >= 0.5:
                    samples.append((done - last_count) / (now - last_time))
                break
            if now >= next_sample:
                samples.append((done - last_count) / (now - last_time))
                last_time, last_count = now, done
                next_sample = now + 1.0
            with anyio.move_on_after(max(0.0, min(next_sample, deadline) - now)):
                await self.changed.wait()
        self.progress.remove_task(task)
        # Upstream skips the first sample (the scheduler warming up); a workload done in
        # under two seconds has no sample left and reports its overall rate instead.
        return samples[1:]

    async def _churn(self, op: dict[str, Any]) -> None:
        templates = [_decode_template(self.base, path) for path in op.get("templatePaths") or ()]
        interval = float(op.get("intervalMilliseconds", 500)) / 1000
        number = int(op.get("number", 1))
        recreate = op.get("mode", "recreate") == "recreate"
        alive: list[Any] = []
        while True:
            for template in templates:
                for _ in range(number):
                    try:
                        alive.append(await self.client.create(template))
                    except ApiError:
                        continue
            await self.clock.sleep(interval)
            if recreate:
                for obj in alive:
                    try:
                        await self.client.delete(
                            type(obj), obj.metadata.name, obj.metadata.namespace
                        )
                    except ApiError:
                        continue
                alive.clear()


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0}
    for unit in ("ms", "s", "m"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wall_clock() -> datetime:
    return datetime.now(UTC)


WORKLOADS = Path(__file__).parent / "workloads" / "performance-config.yaml"
DEFAULT = [
    "SchedulingBasic/500Nodes",
    "SchedulingBasic/5000Nodes_10000Pods",
    "SchedulingPodAntiAffinity/500Nodes",
    "SchedulingPodAntiAffinity/5000Nodes",
    "SchedulingPodAffinity/500Nodes",
    "SchedulingNodeAffinity/500Nodes",
    "TopologySpreading/500Nodes",
    "TopologySpreading/5000Nodes",
    "PreferredTopologySpreading/500Nodes",
    "Unschedulable/500Nodes/200InitPods",
    "SchedulingWithMixedChurn/1000Nodes",
]
RATIO_WORKLOAD = "SchedulingBasic/5000Nodes"


def _workloads(config: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    cases = yaml.safe_load(config.read_text())
    found = []
    for case in cases:
        for workload in case.get("workloads") or ():
            found.append((f"{case['name']}/{workload['name']}", case, workload))
    return found


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


async def _run_one(
    name: str,
    case: dict[str, Any],
    workload: dict[str, Any],
    engine: str,
    progress: Progress,
    compare: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kubeactors-bench-") as directory:
        run = WorkloadRun(
            name, case, workload, WORKLOADS.parent, Path(directory), engine, progress, compare
        )
        result = await run.run()
    samples = result.samples
    attempts = [seconds * 1000 for seconds in result.attempt_seconds]
    row: dict[str, Any] = {
        "name": name if engine == "vectorised" else f"{name} (reference engine)",
        "pods": result.measured,
        "scheduled": result.scheduled,
        "avg_pods_per_s": round(sum(samples) / len(samples), 1)
        if samples
        else round(result.measured / max(result.seconds, 1e-9), 1),
        # No one-second sample (a run done within the first): no percentiles, not 0.
        **{
            f"p{round(fraction * 100)}_pods_per_s": round(_percentile(samples, fraction), 1)
            if samples
            else None
            for fraction in (0.5, 0.9, 0.95, 0.99)
        },
        "overall_pods_per_s": round(result.measured / result.seconds, 1) if result.seconds else 0.0,
        "samples": len(samples),
        "cpu_us_per_pod": round(result.cpu_seconds * 1e6 / max(result.measured, 1), 1),
        "attempt_p50_ms": round(_percentile(attempts, 0.5), 3),
        "attempt_p99_ms": round(_percentile(attempts, 0.99), 3),
        "attempt_mean_ms": round(sum(attempts) / len(attempts), 3) if attempts else 0.0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if result.incomplete:
        row["incomplete"] = result.incomplete
    if result.engines:
        row["engines"] = result.engines
    return row


async def _main(args: argparse.Namespace, console: Console) -> list[dict[str, Any]]:
    everything = _workloads(args.config)
    if args.workload:
        chosen = [w for w in everything if any(pattern in w[0] for pattern in args.workload)]
    elif args.quick:
        chosen = [w for w in everything if "quick" in (w[2].get("labels") or [])]
    else:
        chosen = [w for w in everything if w[0] in DEFAULT]
    rows: list[dict[str, Any]] = []
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=args.no_progress,
        transient=True,
    )
    if args.ratio:
        chosen = []
    with progress:
        for name, case, workload in chosen:
            try:
                check_workload(case, workload, args.config.parent)
            except Unsupported as error:
                console.print(f"[yellow]{name}: skipped: {error}[/yellow]")
                rows.append({"name": name, "skipped": str(error)})
                continue
            try:
                rows.append(await _run_one(name, case, workload, "vectorised", progress))
            except (ApiError, TimeoutError) as error:
                console.print(f"[red]{name}: failed: {error}[/red]")
                rows.append({"name": name, "failed": str(error)})
        if args.ratio or (not args.workload and not args.quick and not args.no_ratio):
            by_name = {w[0]: w for w in everything}
            name, case, workload = by_name[RATIO_WORKLOAD]
            fast = await _run_one(name, case, workload, "vectorised", progress, compare=True)
            slow = await _run_one(name, case, workload, "reference", progress)
            engines = fast.pop("engines", {})
            rows.extend([fast, slow])
            rows.append(
                {
                    "name": f"{name}: vectorised vs reference",
                    **engines,
                    "end_to_end_ratio_vs_reference": round(
                        fast["avg_pods_per_s"] / max(slow["avg_pods_per_s"], 1e-9), 1
                    ),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scheduler", description=__doc__)
    parser.add_argument("--config", type=Path, default=WORKLOADS, help="workload file")
    parser.add_argument(
        "--workload", action="append", help="run workloads whose name contains this"
    )
    parser.add_argument("--quick", action="store_true", help="only the workloads labelled quick")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--no-ratio", action="store_true", help="skip the reference-engine run")
    parser.add_argument(
        "--ratio", action="store_true", help="only the vectorised/reference comparison"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--output", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--gc",
        choices=("relaxed", "python"),
        default="relaxed",
        help="garbage collection as the kubeactors command runs it, or Python's defaults",
    )
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    if args.list:
        for name, _, workload in _workloads(args.config):
            console.print(f"{name}  {workload.get('params', {})}")
        return 0
    with (
        relaxed_gc() if args.gc == "relaxed" else contextlib.nullcontext(),
        prompt_thread_switches(),
    ):
        rows = anyio.run(_main, args, console)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(msgspec.json.format(msgspec.json.encode(rows)))
    emit("scheduler (scheduler_perf workloads, end to end through API server and store)", rows)
    return 0 if all("incomplete" not in row and "failed" not in row for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
