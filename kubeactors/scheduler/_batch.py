"""Placing a run of alike pods with one pass of the node-local plugins over the table.

The replicas of one template schedule alike: the same filters pass the same nodes,
the same scores rank them. Most plugins are *node-local*: a node's verdict and raw
score depend only on the pod and that node (its labels, taints, resources and the
pods on it) and on cluster facts that placing pods does not change. Placing a pod
on node X changes their answers for X alone. So a run filters and scores the whole
table with them once; each pod then runs only the other plugins (topology spread,
inter-pod affinity: their answers move with every placement), takes its window of
feasible nodes (the same rotating window the one-pod cycle would visit), picks the
best with the same draw from the seeded generator, and once it is assumed, X alone
is filtered and scored again through the node-local plugins' per-node forms. The
answers are those of `Engine.schedule` on each pod in turn (property-tested).

A plugin says it is node-local with a class attribute `node_local = True`. Its
per-node forms (`filter`, `score`) must then read nothing of the `CycleState` that
the vectorised PreFilter/PreScore leave in another shape than the reference ones.
A node-local plugin that reads nothing of the pods placed on a node (taints, labels,
images: `reads_placed_pods = False`) is not asked again about the node a pod went to.

A plugin that is not node-local may say `stable_skip = True`: whether its PreFilter
skips Filter, and its PreScore skips Score, depends only on the pod's signature and on
cluster facts that placing pods without pod (anti-)affinity terms does not change.
For a run of such pods, a plugin that skips for the first pod is then left out for
the whole run (the usual case: no spread constraints, no affinity), instead of being
asked once per pod.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ._cache import carried_terms
from ._podinfo import PodInfo
from ._result import ScheduleResult, feasible_nodes_to_find
from ._table import Int64Array
from .framework import (
    CycleState,
    FilterPlugin,
    NormalizeScorePlugin,
    ScorePlugin,
    Snapshot,
)

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Run", "node_local", "reads_placed_pods", "stable_skip"]

Positions = npt.NDArray[np.intp]
_Window = tuple[Positions, int, Positions]


def node_local(plugin: object) -> bool:
    """True if `plugin` declares itself node-local (see the module's docstring)."""
    return bool(getattr(plugin, "node_local", False))


def reads_placed_pods(plugin: object) -> bool:
    """False if a node-local `plugin` declares its answers independent of the pods
    placed on a node (see the module's docstring); True by default."""
    return bool(getattr(plugin, "reads_placed_pods", True))


def stable_skip(plugin: object) -> bool:
    """True if `plugin` declares its skip decisions stable over a run (see the
    module's docstring)."""
    return bool(getattr(plugin, "stable_skip", False))


@dataclass(slots=True)
class _Scores:
    """One scorer's raw scores over the present nodes (by position), kept current."""

    scorer: ScorePlugin
    weight: int
    raw: npt.NDArray[np.int64]
    normalised: bool
    varies: bool
    """Normalised per window only if the raw scores differ somewhere: a constant
    raw score normalises to a constant, which ranks no node above another."""


class Run:
    """One run: the node-local plugins' verdicts and scores over the whole table,
    kept current as pods are placed; the other plugins run per pod as usual."""

    def __init__(
        self,
        engine: Engine,
        state: CycleState,
        nodes: Positions,
        local_ok: npt.NDArray[np.bool_],
        local_filters: list[FilterPlugin],
        scores: list[_Scores],
    ) -> None:
        self.engine = engine
        self.state = state
        self.snapshot = Snapshot(engine.cache, False)
        self.nodes = nodes
        self.count = len(nodes)
        self.local_ok = local_ok
        """Per position: passes every node-local filter."""
        self.feasible = np.flatnonzero(local_ok)
        self.local_filters = [p for p in local_filters if reads_placed_pods(p)]
        """The node-local filters to ask again about the node a pod went to."""
        self.scores = scores
        self.rescored = [entry for entry in scores if reads_placed_pods(entry.scorer)]
        """The node-local scores to compute again for the node a pod went to."""
        profile = engine.profile
        self.other_pre_filters = [p for p in profile.pre_filter if not node_local(p)]
        self.other_filters = [p for p in profile.filter if not node_local(p)]
        self.other_pre_scores = [p for p in profile.pre_score if not node_local(p)]
        self.other_scores = [(s, w) for s, w in profile.score if not node_local(s)]
        self.wanted = _wanted(engine, self.count)
        self.total = np.zeros(self.count, np.int64)
        for entry in scores:
            if not entry.normalised:
                self.total += entry.raw * entry.weight
        self._position = -1
        self._windows: dict[int, _Window] = {}
        """The window taken from each start, while `feasible` stays the same: the
        windows of a run come round again (ten of 500 nodes at 5,000 nodes), and
        each is worked out once."""

    def leave_out_skipped(self, pod: PodInfo) -> None:
        """Leave out of the run the other plugins that skip for `pod` and say the skip
        holds for the run (`stable_skip`): possible when the run's pods carry no pod
        (anti-)affinity terms, which alone could change the skip by being placed."""
        if any(True for _ in carried_terms(pod)):
            return
        probe = CycleState()
        snapshot = self.snapshot
        for pre in self.other_pre_filters:
            if stable_skip(pre):
                status = pre.pre_filter(probe, pod, snapshot)
                if status is not None and not status.ok:
                    return  # the run goes one pod at a time anyway
        for pre_score in self.other_pre_scores:
            if stable_skip(pre_score):
                pre_score.pre_score(probe, pod, snapshot, self.nodes)

        def skipped(plugin: object, names: set[str]) -> bool:
            return stable_skip(plugin) and getattr(plugin, "name", None) in names

        skip_filter, skip_score = probe.skip_filter, probe.skip_score
        self.other_pre_filters = [p for p in self.other_pre_filters if not skipped(p, skip_filter)]
        self.other_filters = [p for p in self.other_filters if not skipped(p, skip_filter)]
        self.other_pre_scores = [p for p in self.other_pre_scores if not skipped(p, skip_score)]
        self.other_scores = [(s, w) for s, w in self.other_scores if not skipped(s, skip_score)]

    @classmethod
    def prepare(cls, engine: Engine, pod: PodInfo) -> Run | None:
        """Run the node-local plugins over the whole table for `pod`; None if there
        are no nodes or a node-local PreFilter rejects the pod (one by one, then)."""
        cache = engine.cache
        profile = engine.profile
        nodes = cache.table.present_rows()
        if not len(nodes):
            return None
        snapshot = Snapshot(cache, False)
        state = CycleState()
        for pre in profile.pre_filter:
            if node_local(pre):
                status = pre.pre_filter(state, pod, snapshot)
                if status is not None and not status.ok:
                    return None
        filters = [p for p in profile.filter if node_local(p) and p.name not in state.skip_filter]
        local_ok = np.ones(len(nodes), np.bool_)
        for plugin in filters:
            passed = plugin.filter_all(state, pod, snapshot)
            if passed is not None:
                local_ok &= passed[nodes]
        for pre_score in profile.pre_score:
            if node_local(pre_score):
                pre_score.pre_score(state, pod, snapshot, nodes)
        scores = []
        for scorer, weight in profile.score:
            if not node_local(scorer) or scorer.name in state.skip_score:
                continue
            raw = np.array(scorer.score_all(state, pod, snapshot, nodes), np.int64)
            normalised = isinstance(scorer, NormalizeScorePlugin)
            varies = normalised and len(raw) > 0 and int(raw.min()) != int(raw.max())
            scores.append(_Scores(scorer, weight, raw, normalised, varies))
        run = cls(engine, state, nodes, local_ok, filters, scores)
        run.leave_out_skipped(pod)
        return run

    def schedule(self, pod: PodInfo) -> ScheduleResult:
        """`Engine.schedule(pod)`, from the run's arrays."""
        engine = self.engine
        snapshot = self.snapshot
        state = CycleState()
        for pre in self.other_pre_filters:
            status = pre.pre_filter(state, pod, snapshot)
            if status is not None and not status.ok:
                return engine.schedule(pod)  # rejected everywhere: as one cycle says
        feasible = self.feasible
        mask = None
        for plugin in self.other_filters:
            if plugin.name not in state.skip_filter:
                passed = plugin.filter_all(state, pod, snapshot)
                if passed is not None:
                    mask = (self.local_ok if mask is None else mask) & passed[self.nodes]
        if mask is not None:
            feasible = np.flatnonzero(mask)
        if not len(feasible):
            # Fits nowhere: the one-pod cycle says why, as it would have.
            return engine.schedule(pod)
        count = self.count
        start = engine.next_start % count
        if mask is None:
            window = self._windows.get(start)
            if window is None:
                window = self._windows[start] = self._window(feasible, start)
        else:
            window = self._window(feasible, start)
        taken, processed, rows = window
        taken_count = len(taken)
        engine.next_start = (start + processed) % count
        if taken_count == 1:
            position = int(taken[0])
        else:
            totals = self._totals(state, pod, taken, rows)
            best = (totals == totals.max()).nonzero()[0]
            ties = len(best)
            pick = best[engine.rng.randrange(ties)] if ties > 1 else best[0]
            position = int(taken[pick])
        self._position = position
        row = int(self.nodes[position])
        return ScheduleResult(
            node=engine.cache.table.names[row],
            row=row,
            evaluated=processed,
            feasible=taken_count,
            nodes=count,
            state=state,
        )

    def _window(self, feasible: Positions, start: int) -> _Window:
        """The positions the one-pod cycle would visit from `start` (the first
        `wanted` feasible ones, going round), how many positions it passes over, and
        the table rows of the positions (read-only: a plugin may keep what it works
        out of them by their identity)."""
        count, wanted = self.count, self.wanted
        found = len(feasible)
        split = int(feasible.searchsorted(start))
        if found <= wanted:
            taken = feasible if split == 0 else np.concatenate((feasible[split:], feasible[:split]))
        elif split + wanted <= found:
            taken = feasible[split : split + wanted]
        else:
            taken = np.concatenate((feasible[split:], feasible[: wanted - (found - split)]))
        processed = (int(taken[-1]) - start) % count + 1 if len(taken) == wanted else count
        rows = self.nodes[taken]
        rows.flags.writeable = False
        return taken, processed, rows

    def _totals(
        self, state: CycleState, pod: PodInfo, taken: Positions, rows: Positions
    ) -> Int64Array:
        """The weighted scores of the window: the node-local ones kept by the run,
        the others computed as one cycle would."""
        totals: Int64Array = self.total[taken]
        for entry in self.scores:
            if entry.varies:
                scorer = entry.scorer
                assert isinstance(scorer, NormalizeScorePlugin)
                totals += scorer.normalize(self.state, pod, entry.raw[taken]) * entry.weight
        if not self.other_scores:
            return totals
        snapshot = self.snapshot
        for pre_score in self.other_pre_scores:
            pre_score.pre_score(state, pod, snapshot, rows)
        for scorer, weight in self.other_scores:
            if scorer.name in state.skip_score:
                continue
            scores = scorer.score_all(state, pod, snapshot, rows)
            if isinstance(scorer, NormalizeScorePlugin):
                scores = scorer.normalize(state, pod, scores)
            totals += scores * weight
        return totals

    def placed(self, pod: PodInfo) -> None:
        """The pod last scheduled is assumed on its node: filter and score that node
        again with the node-local plugins."""
        position = self._position
        node = self.engine.cache.by_row(int(self.nodes[position]))
        state = self.state
        for plugin in self.local_filters:
            status = plugin.filter(state, pod, node)
            if status is not None and not status.ok:
                self.local_ok[position] = False
                index = int(np.searchsorted(self.feasible, position))
                self.feasible = np.delete(self.feasible, index)
                self._windows.clear()
                break
        for entry in self.rescored:
            new = entry.scorer.score(state, pod, node)
            old = int(entry.raw[position])
            if new == old:
                continue
            entry.raw[position] = new
            if entry.normalised:
                entry.varies = True
            else:
                self.total[position] += (new - old) * entry.weight


def _wanted(engine: Engine, count: int) -> int:
    return feasible_nodes_to_find(count, engine.profile.percentage_of_nodes_to_score)
