"""The vectorised engine against the reference engine, on the same pods and nodes.

A benchmark run ends with the cluster it built: its nodes, the pods placed before
the measured ones, and the measured pods. Both engines are given two identical
caches of the nodes and earlier pods, then place the measured pods (unbound again)
batch by batch, as the scheduler pops them: the vectorised engine a batch, the
reference engine the same batch, the order swapped every batch so neither always
runs on a warmer cache. Each attempt is timed in CPU time of this thread, which
another process on the machine does not inflate. Both engines choose the same node
for every pod (their answers are property-tested equal; a difference is reported).
The vectorised engine also places the pods one per cycle, as it does when pods come
one at a time (no run to share the pass over the table). The objects alive before
(the whole benchmark's heap) are frozen out of the garbage collector's passes, which
would otherwise be timed with whichever engine allocated when they ran.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Sequence
from typing import Any

import msgspec

from kubeactors.api import Node, Pod
from kubeactors.scheduler import (
    Cache,
    Engine,
    Handle,
    ParsedPods,
    PodInfo,
    ScheduleResult,
    load_configuration,
    node_view,
)

__all__ = ["compare_engines"]

BATCH = 256
"""Pods placed as one batch, as the scheduler's default `batch_size`."""


class _Side:
    """One engine over its own cache, with the CPU time its attempts took."""

    def __init__(
        self, engine: str, nodes: Sequence[Node], before: Sequence[Pod], one_by_one: bool = False
    ) -> None:
        cache = Cache()
        for node in nodes:
            cache.set_node(node_view(node))
        parsed = ParsedPods()
        for pod in before:
            cache.add(parsed.info(pod), pod.spec.node_name, assumed=False)
        profile = load_configuration(None).build(Handle(cache))["default-scheduler"]
        self.engine = Engine(profile, cache, random.Random(0), engine=engine)
        self.cache = cache
        self.one_by_one = one_by_one
        self.seconds = 0.0
        self.attempts = 0
        self.placed: list[str] = []

    def place(self, batch: list[PodInfo]) -> None:
        cache = self.cache

        def assume(info: PodInfo, result: ScheduleResult) -> None:
            cache.add(info, result.node, assumed=True)

        started = time.thread_time()
        while batch:
            results = self.engine.schedule_run(_run(batch, self.one_by_one), assume)
            self.placed.extend(result.node for result in results)
            batch = batch[len(results) :]
            self.attempts += len(results)
        self.seconds += time.thread_time() - started


def _run(batch: list[PodInfo], one_by_one: bool) -> list[PodInfo]:
    """The pods at the head of `batch` that schedule alike, as the queue pops a run."""
    signature = batch[0].signature
    end = 1
    while not one_by_one and end < len(batch) and batch[end].signature == signature:
        end += 1
    return batch[:end]


def compare_engines(
    nodes: Sequence[Node], before: Sequence[Pod], measured: Sequence[Pod]
) -> dict[str, Any]:
    """Place `measured` with both engines on caches of `nodes` and `before` (bound
    pods); the CPU time per attempt of each and their ratio."""
    gc.collect()
    gc.freeze()
    try:
        return _compare(nodes, before, measured)
    finally:
        gc.unfreeze()


def _compare(
    nodes: Sequence[Node], before: Sequence[Pod], measured: Sequence[Pod]
) -> dict[str, Any]:
    fast = _Side("vectorised", nodes, before)
    slow = _Side("reference", nodes, before)
    single = _Side("vectorised", nodes, before, one_by_one=True)
    parsed = ParsedPods()
    pending = [
        parsed.info(
            msgspec.structs.replace(pod, spec=msgspec.structs.replace(pod.spec, node_name=""))
        )
        for pod in measured
    ]
    for number, start in enumerate(range(0, len(pending), BATCH)):
        batch = pending[start : start + BATCH]
        sides = (fast, slow, single) if number % 2 == 0 else (single, slow, fast)
        for side in sides:
            side.place(list(batch))
    fast_us = fast.seconds * 1e6 / max(fast.attempts, 1)
    slow_us = slow.seconds * 1e6 / max(slow.attempts, 1)
    single_us = single.seconds * 1e6 / max(single.attempts, 1)
    return {
        "attempts": fast.attempts,
        "vectorised_cpu_us_per_attempt": round(fast_us, 1),
        "reference_cpu_us_per_attempt": round(slow_us, 1),
        "attempt_ratio_vs_reference": round(slow_us / max(fast_us, 1e-9), 1),
        "vectorised_one_by_one_cpu_us_per_attempt": round(single_us, 1),
        "one_by_one_ratio_vs_reference": round(slow_us / max(single_us, 1e-9), 1),
        "different_choices": sum(
            a != b or a != c
            for a, b, c in zip(fast.placed, slow.placed, single.placed, strict=True)
        ),
    }
