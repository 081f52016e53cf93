"""Placing a run of alike pods with one pass of the plugins over the node table.

The replicas of one template schedule alike: the same filters pass the same nodes,
the same scores rank them. When every plugin that applies to such a pod is
*node-local* (a node's verdict and raw score depend only on the pod and that node,
and on cluster facts that placing pods does not change), placing a pod on node X
changes the answers for X alone. So the run filters and scores the whole table once;
then each pod only takes its window of feasible nodes (the same rotating window
the one-pod cycle would visit), picks the best of it with the same draw from the
seeded generator, and after it is assumed, X alone is filtered and scored again
through the plugins' per-node forms. The answers are those of `Engine.schedule` on
each pod in turn, which the property tests check.

A plugin says it is node-local with a class attribute `node_local = True`. Its
per-node forms (`filter`, `score`) must then read nothing of the `CycleState` that
the vectorised PreFilter/PreScore leave in another shape than the reference ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ._podinfo import PodInfo
from ._result import ScheduleResult, feasible_nodes_to_find
from .framework import (
    CycleState,
    FilterPlugin,
    NormalizeScorePlugin,
    ScorePlugin,
    Snapshot,
)

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Run", "node_local"]

Positions = npt.NDArray[np.intp]


def node_local(plugin: object) -> bool:
    """True if `plugin` declares itself node-local (see the module's docstring)."""
    return bool(getattr(plugin, "node_local", False))


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
    """The state of one run: feasible positions, summed scores, the cycle state."""

    def __init__(
        self,
        engine: Engine,
        state: CycleState,
        nodes: Positions,
        feasible: Positions,
        filters: list[FilterPlugin],
        scores: list[_Scores],
    ) -> None:
        self.engine = engine
        self.state = state
        self.nodes = nodes
        self.count = len(nodes)
        self.feasible = feasible
        self.filters = filters
        self.scores = scores
        self.wanted = _wanted(engine, self.count)
        self.total = np.zeros(self.count, np.int64)
        for entry in scores:
            if not entry.normalised:
                self.total += entry.raw * entry.weight
        self._position = -1

    @classmethod
    def prepare(cls, engine: Engine, pod: PodInfo) -> Run | None:
        """Filter and score the whole table for `pod`; None if a plugin that applies
        to it is not node-local (or a PreFilter rejects it): schedule one by one."""
        cache = engine.cache
        profile = engine.profile
        nodes = cache.table.present_rows()
        if not len(nodes):
            return None
        snapshot = Snapshot(cache, False)
        state = CycleState()
        for pre in profile.pre_filter:
            status = pre.pre_filter(state, pod, snapshot)
            if status is not None and not status.ok:
                return None
        filters = [p for p in profile.filter if p.name not in state.skip_filter]
        if not all(node_local(p) for p in filters):
            return None
        mask = None
        for plugin in filters:
            passed = plugin.filter_all(state, pod, snapshot)
            if passed is not None:
                mask = passed if mask is None else mask & passed
        feasible = np.arange(len(nodes)) if mask is None else np.flatnonzero(mask[nodes])
        for pre_score in profile.pre_score:
            pre_score.pre_score(state, pod, snapshot, nodes)
        scores = []
        for scorer, weight in profile.score:
            if scorer.name in state.skip_score:
                continue
            if not node_local(scorer):
                return None
            raw = np.array(scorer.score_all(state, pod, snapshot, nodes), np.int64)
            normalised = isinstance(scorer, NormalizeScorePlugin)
            varies = normalised and len(raw) > 0 and int(raw.min()) != int(raw.max())
            scores.append(_Scores(scorer, weight, raw, normalised, varies))
        return cls(engine, state, nodes, feasible, filters, scores)

    def schedule(self, pod: PodInfo) -> ScheduleResult:
        """`Engine.schedule(pod)`, from the run's arrays."""
        engine = self.engine
        feasible = self.feasible
        found = len(feasible)
        if not found:
            # Fits nowhere: the one-pod cycle says why, as it would have.
            return engine.schedule(pod)
        count, wanted = self.count, self.wanted
        start = engine.next_start % count
        split = int(np.searchsorted(feasible, start))
        if found <= wanted:
            taken = feasible if split == 0 else np.concatenate((feasible[split:], feasible[:split]))
        elif split + wanted <= found:
            taken = feasible[split : split + wanted]
        else:
            taken = np.concatenate((feasible[split:], feasible[: wanted - (found - split)]))
        taken_count = len(taken)
        processed = (int(taken[-1]) - start) % count + 1 if taken_count == wanted else count
        engine.next_start = (start + processed) % count
        if taken_count == 1:
            position = int(taken[0])
        else:
            totals = self.total[taken]
            for entry in self.scores:
                if entry.varies:
                    scorer = entry.scorer
                    assert isinstance(scorer, NormalizeScorePlugin)
                    totals = totals + scorer.normalize(self.state, pod, entry.raw[taken]) * (
                        entry.weight
                    )
            best = np.flatnonzero(totals == totals.max())
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
            state=self.state,
        )

    def placed(self, pod: PodInfo) -> None:
        """The pod last scheduled is assumed on its node: filter and score that node again."""
        position = self._position
        node = self.engine.cache.by_row(int(self.nodes[position]))
        state = self.state
        for plugin in self.filters:
            status = plugin.filter(state, pod, node)
            if status is not None and not status.ok:
                index = int(np.searchsorted(self.feasible, position))
                self.feasible = np.delete(self.feasible, index)
                break
        for entry in self.scores:
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
