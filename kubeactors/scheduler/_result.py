"""What one scheduling cycle answers, and how many nodes it looks for."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial

from .framework import CycleState, Status

__all__ = ["ScheduleResult", "feasible_nodes_to_find"]

_MIN_FEASIBLE_NODES = 100
_BASE_PERCENTAGE = 50


def feasible_nodes_to_find(nodes: int, percentage: int) -> int:
    """How many feasible nodes to find before scoring, as upstream (adaptive when 0)."""
    if nodes < _MIN_FEASIBLE_NODES or percentage >= 100:
        return nodes
    if percentage <= 0:
        percentage = max(_BASE_PERCENTAGE - nodes // 125, 5)
    return max(nodes * percentage // 100, _MIN_FEASIBLE_NODES)


# An empty Counter without `Counter.__init__` (Python code): a result is made for every
# pod scheduled, and only a pod that fits nowhere has reasons to count.
_no_reasons = partial(Counter.__new__, Counter)


@dataclass(slots=True)
class ScheduleResult:
    node: str = ""
    """The chosen node; empty when none fits."""
    row: int = -1
    evaluated: int = 0
    feasible: int = 0
    reasons: Counter[str] = field(default_factory=_no_reasons)
    """Why nodes failed, counted by reason (when no node fits)."""
    failed_plugins: set[str] = field(default_factory=set)
    """The Filter plugins that turned nodes away (when no node fits)."""
    nodes: int = 0
    state: CycleState = field(default_factory=CycleState)
    prefilter: Status | None = None
    """A PreFilter rejection, which applies to every node."""

    @property
    def message(self) -> str:
        """Upstream's FitError text: `0/5 nodes are available: 3 Insufficient cpu, ...`."""
        if self.nodes == 0:
            return "no nodes available to schedule pods"
        if self.prefilter is not None:
            detail = "; ".join(self.prefilter.reasons)
            return f"0/{self.nodes} nodes are available: {detail}."
        parts = sorted(f"{count} {reason}" for reason, count in self.reasons.items())
        return f"0/{self.nodes} nodes are available: {', '.join(parts)}."
