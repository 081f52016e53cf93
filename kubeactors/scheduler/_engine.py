"""One scheduling cycle: PreFilter, Filter (sampled), PreScore, Score, select.

The vectorised engine runs each Filter and Score plugin once over the node table;
the reference engine visits one node at a time through the plugins' plain forms.
Both visit nodes in the same rotating order, stop at the same number of feasible
nodes, and break ties with the same draw from the seeded generator, so for the
same cluster and seed they choose the same node.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from ._batch import Run
from ._cache import Cache
from ._nominated import fits_on
from ._podinfo import PodInfo
from ._profile import Profile
from ._result import ScheduleResult, feasible_nodes_to_find
from ._table import BoolArray
from .framework import (
    CycleState,
    FilterPlugin,
    NormalizeScorePlugin,
    Snapshot,
    Status,
)

__all__ = ["ENGINES", "Engine", "ScheduleResult", "feasible_nodes_to_find"]

ENGINES = ("vectorised", "reference")


class Engine:
    """Schedules one pod at a time against a cache with one profile's plugins."""

    def __init__(
        self, profile: Profile, cache: Cache, rng: random.Random, *, engine: str = "vectorised"
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine: must be one of {ENGINES}, got {engine!r}")
        self.profile = profile
        self.cache = cache
        self.rng = rng
        self.reference = engine == "reference"
        self.next_start = 0

    def schedule(self, pod: PodInfo) -> ScheduleResult:
        snapshot = Snapshot(self.cache, self.reference)
        state = CycleState()
        nodes = self.cache.table.present_rows()
        result = ScheduleResult(nodes=len(nodes), state=state)
        if not len(nodes):
            return result
        for plugin in self.profile.pre_filter:
            status = plugin.pre_filter(state, pod, snapshot)
            if status is not None and not status.ok:
                result.prefilter = Status(status.code, status.reasons, plugin.name)
                result.failed_plugins.add(plugin.name)
                return result
        cache = self.cache
        nominated = cache.nominated_for(pod) if cache.nominated else {}
        own = cache.nominations.get(pod.key)
        if own is not None and own[0] in cache.table:
            # As upstream: a pod that preempted tries its nominated node first, and
            # takes it, unscored, if it passes.
            node = own[0]
            if self._fits_on(pod, node, nominated.get(node, [])) is None:
                row = cache.table.find(node)
                assert row is not None
                result.node, result.row, result.evaluated, result.feasible = node, row, 1, 1
                return result
        filters = [p for p in self.profile.filter if p.name not in state.skip_filter]
        wanted = feasible_nodes_to_find(len(nodes), self.profile.percentage_of_nodes_to_score)
        start = self.next_start % len(nodes)
        if self.reference:
            chosen, processed = self._filter_reference(
                state, pod, snapshot, filters, nodes, start, wanted, result, nominated
            )
        else:
            chosen, processed = self._filter_vectorised(
                state, pod, snapshot, filters, nodes, start, wanted, result, nominated
            )
        self.next_start = (start + processed) % len(nodes)
        result.evaluated = processed
        result.feasible = len(chosen)
        if not len(chosen):
            return result
        if len(chosen) == 1:
            result.row = int(chosen[0])
        else:
            result.row = self._select(state, pod, snapshot, chosen)
        result.node = self.cache.table.names[result.row]
        return result

    def schedule_run(
        self, pods: Sequence[PodInfo], assume: Callable[[PodInfo, ScheduleResult], None]
    ) -> list[ScheduleResult]:
        """Schedule pods that schedule alike (equal `signature`s) one after the other.

        `assume(pod, result)` must place each pod that fits in the cache before the
        next is tried. Stops after the first pod that fits nowhere (what happens to
        it, a preemption say, may change the cluster for the next). The answers are
        those of `schedule` on each pod in turn; the vectorised engine gets them with
        one pass of the plugins over the table when the plugins allow (`_batch`).
        """
        # Nominated pods make some nodes a special case per pod: no runs while any wait.
        batch = len(pods) > 1 and not self.reference and not self.cache.nominations
        run = Run.prepare(self, pods[0]) if batch else None
        results = []
        for pod in pods:
            result = self.schedule(pod) if run is None else run.schedule(pod)
            results.append(result)
            if not result.node:
                break
            assume(pod, result)
            if run is not None:
                run.placed(pod)
        return results

    # -- filter ------------------------------------------------------------------

    def _filter_vectorised(
        self,
        state: CycleState,
        pod: PodInfo,
        snapshot: Snapshot,
        filters: list[FilterPlugin],
        nodes: npt.NDArray[np.intp],
        start: int,
        wanted: int,
        result: ScheduleResult,
        nominated: dict[str, list[PodInfo]],
    ) -> tuple[npt.NDArray[np.intp], int]:
        mask: BoolArray | None = None
        masks = []
        for plugin in filters:
            passed = plugin.filter_all(state, pod, snapshot)
            masks.append((plugin, passed))
            if passed is not None:
                mask = passed if mask is None else mask & passed
        blocked: dict[int, Status] = {}
        if nominated:
            table = self.cache.table
            # A copy: a single plugin's mask may be a view of a table column.
            mask = np.ones(table.size, np.bool_) if mask is None else mask.copy()
            for node, others in nominated.items():
                row = table.find(node)
                # Nodes the filters turn away anyway keep their own reasons.
                if row is None or not table.present[row] or not mask[row]:
                    continue
                status = self._fits_on(pod, node, others)
                mask[row] = status is None
                if status is not None:
                    blocked[row] = status
        count = len(nodes)
        if mask is None:
            positions = (np.arange(min(wanted, count)) + start) % count
            return nodes[positions], len(positions)
        feasible = np.flatnonzero(mask[nodes])
        split = int(np.searchsorted(feasible, start))
        rotated = np.concatenate((feasible[split:], feasible[:split]))
        taken = rotated[:wanted]
        processed = (int(taken[-1]) - start) % count + 1 if len(taken) == wanted else count
        if not len(taken):
            self._diagnose(state, pod, snapshot, masks, nodes, result, blocked)
        return nodes[taken], processed

    def _diagnose(
        self,
        state: CycleState,
        pod: PodInfo,
        snapshot: Snapshot,
        masks: list[tuple[FilterPlugin, BoolArray | None]],
        nodes: npt.NDArray[np.intp],
        result: ScheduleResult,
        blocked: dict[int, Status],
    ) -> None:
        remaining = np.zeros(self.cache.table.size, np.bool_)
        remaining[nodes] = True
        for row, status in blocked.items():
            remaining[row] = False
            result.reasons.update(status.reasons)
            result.failed_plugins.add(status.plugin)
        for plugin, passed in masks:
            if passed is None:
                continue
            failing = np.flatnonzero(remaining & ~passed)
            if len(failing):
                result.reasons.update(plugin.reasons(state, pod, snapshot, failing))
                result.failed_plugins.add(plugin.name)
            remaining &= passed

    def _filter_reference(
        self,
        state: CycleState,
        pod: PodInfo,
        snapshot: Snapshot,
        filters: list[FilterPlugin],
        nodes: npt.NDArray[np.intp],
        start: int,
        wanted: int,
        result: ScheduleResult,
        nominated: dict[str, list[PodInfo]],
    ) -> tuple[npt.NDArray[np.intp], int]:
        count = len(nodes)
        chosen: list[int] = []
        reasons: Counter[str] = Counter()
        failed: set[str] = set()
        processed = 0
        for offset in range(count):
            row = int(nodes[(start + offset) % count])
            node = self.cache.by_row(row)
            processed += 1
            for plugin in filters:
                status = plugin.filter(state, pod, node)
                if status is not None and not status.ok:
                    reasons.update(status.reasons)
                    failed.add(plugin.name)
                    break
            else:
                others = nominated.get(node.name)
                if others is not None:
                    status = self._fits_on(pod, node.name, others)
                    if status is not None:
                        reasons.update(status.reasons)
                        failed.add(status.plugin)
                        continue
                chosen.append(row)
                if len(chosen) == wanted:
                    break
        if not chosen:
            result.reasons = reasons
            result.failed_plugins = failed
        return np.array(chosen, np.intp), processed

    def _fits_on(self, pod: PodInfo, node: str, nominated: list[PodInfo]) -> Status | None:
        profile = self.profile
        return fits_on(self.cache, profile.pre_filter, profile.filter, pod, node, nominated)

    # -- score -------------------------------------------------------------------

    def evaluate(self, pod: PodInfo) -> dict[str, int]:
        """Every feasible node's total score, without sampling or choosing (for tests).

        Leaves the rotating start index and the random generator untouched.
        """
        snapshot = Snapshot(self.cache, self.reference)
        state = CycleState()
        nodes = self.cache.table.present_rows()
        result = ScheduleResult(nodes=len(nodes), state=state)
        for plugin in self.profile.pre_filter:
            status = plugin.pre_filter(state, pod, snapshot)
            if status is not None and not status.ok:
                return {}
        filters = [p for p in self.profile.filter if p.name not in state.skip_filter]
        run = self._filter_reference if self.reference else self._filter_vectorised
        nominated = self.cache.nominated_for(pod) if self.cache.nominated else {}
        chosen, _ = run(state, pod, snapshot, filters, nodes, 0, len(nodes), result, nominated)
        if not len(chosen):
            return {}
        totals = self._totals(state, pod, snapshot, chosen)
        if not isinstance(totals, list):
            totals = totals.tolist()
        names = self.cache.table.names
        return {names[int(row)]: total for row, total in zip(chosen, totals, strict=True)}

    def _totals(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: npt.NDArray[np.intp]
    ) -> list[int] | npt.NDArray[np.int64]:
        """The weighted sum of normalised scores of `rows` (an array when vectorised)."""
        for plugin in self.profile.pre_score:
            plugin.pre_score(state, pod, snapshot, rows)
        if self.reference:
            totals = [0] * len(rows)
            infos = [self.cache.by_row(int(row)) for row in rows]
            for scorer, weight in self.profile.score:
                if scorer.name in state.skip_score:
                    continue
                scores = [scorer.score(state, pod, node) for node in infos]
                if isinstance(scorer, NormalizeScorePlugin):
                    scores = scorer.normalize_list(state, pod, scores)
                totals = [
                    total + score * weight for total, score in zip(totals, scores, strict=True)
                ]
            return totals
        total_array = np.zeros(len(rows), np.int64)
        for scorer, weight in self.profile.score:
            if scorer.name in state.skip_score:
                continue
            score_array = scorer.score_all(state, pod, snapshot, rows)
            if isinstance(scorer, NormalizeScorePlugin):
                score_array = scorer.normalize(state, pod, score_array)
            total_array += score_array * weight
        return total_array

    def _select(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: npt.NDArray[np.intp]
    ) -> int:
        totals = self._totals(state, pod, snapshot, rows)
        if isinstance(totals, list):
            top = max(totals)
            best = [index for index, total in enumerate(totals) if total == top]
            count = len(best)
        else:
            positions = np.flatnonzero(totals == totals.max())
            count = len(positions)
            best = positions.tolist() if count > 1 else [int(positions[0])]
        pick = best[self.rng.randrange(count)] if count > 1 else best[0]
        return int(rows[pick])
