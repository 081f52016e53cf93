"""NodeAffinity: nodeSelector and required node affinity filter; preferred terms score."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._cache import NAME_FIELD, NodeInfo
from .._podinfo import PodInfo
from .._selectors import NodeSelectorTerm, Requirement
from .._table import BoolArray, Int64Array, NodeTable
from ..framework import (
    CycleState,
    FilterPlugin,
    NormalizeScorePlugin,
    PreFilterPlugin,
    Snapshot,
    Status,
    default_normalize,
    default_normalize_list,
)

__all__ = ["NodeAffinity", "node_matches", "nodes_matching"]

_REASON = "node(s) didn't match Pod's node affinity/selector"


def _requirement_mask(table: NodeTable, requirement: Requirement, key: str) -> BoolArray:
    n = table.size
    codes = table.label_column(key)[:n]
    match requirement.operator:
        case "In" | "NotIn":
            wanted = [table.label_code(key, value) for value in requirement.values]
            inside = np.isin(codes, wanted)
            return inside if requirement.operator == "In" else ~inside
        case "Exists":
            return codes >= 0
        case "DoesNotExist":
            return codes < 0
        case _:  # Gt, Lt
            names = table.label_names[key]
            numbers = np.array([_integer(value) for value in names] + [0], np.float64)
            values = np.where(codes >= 0, numbers[codes], np.nan)
            bound = float(int(requirement.values[0]))
            with np.errstate(invalid="ignore"):
                return values > bound if requirement.operator == "Gt" else values < bound


def _integer(value: str) -> float:
    try:
        return float(int(value))
    except ValueError:
        return float("nan")


def _term_mask(table: NodeTable, term: NodeSelectorTerm) -> BoolArray:
    n = table.size
    mask = np.full(n, bool(term.expressions or term.fields))
    for requirement in term.expressions:
        mask &= _requirement_mask(table, requirement, requirement.key)
    for requirement in term.fields:
        mask &= _requirement_mask(table, requirement, NAME_FIELD)
    return mask


def nodes_matching(table: NodeTable, pod: PodInfo) -> BoolArray | None:
    """Rows matching the pod's nodeSelector and required node affinity; None: all."""
    if not pod.node_selector and pod.required_node_terms is None:
        return None
    n = table.size
    mask = np.ones(n, np.bool_)
    for key, value in pod.node_selector.items():
        mask &= table.label_column(key)[:n] == table.label_code(key, value)
    if pod.required_node_terms is not None:
        any_term = np.zeros(n, np.bool_)
        for term in pod.required_node_terms:
            any_term |= _term_mask(table, term)
        mask &= any_term
    return mask


def node_matches(pod: PodInfo, node: NodeInfo) -> bool:
    labels = node.labels
    if any(labels.get(key) != value for key, value in pod.node_selector.items()):
        return False
    terms = pod.required_node_terms
    return terms is None or any(term.matches(labels, node.name) for term in terms)


class NodeAffinity(PreFilterPlugin, FilterPlugin, NormalizeScorePlugin):
    name = "NodeAffinity"
    node_local = True
    reads_placed_pods = False

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status | None:
        if not pod.node_selector and pod.required_node_terms is None:
            state.skip_filter.add(self.name)
        if not pod.preferred_node_terms:
            state.skip_score.add(self.name)
        return None

    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        return nodes_matching(snapshot.cache.table, pod)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        return None if node_matches(pod, node) else Status.unschedulable(_REASON, resolvable=False)

    def score_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: npt.NDArray[np.intp]
    ) -> Int64Array:
        table = snapshot.cache.table
        total = np.zeros(len(rows), np.int64)
        for weighted in pod.preferred_node_terms:
            if weighted.weight:
                total += np.where(_term_mask(table, weighted.term)[rows], weighted.weight, 0)
        return total

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return sum(
            weighted.weight
            for weighted in pod.preferred_node_terms
            if weighted.weight and weighted.term.matches(node.labels, node.name)
        )

    def normalize(self, state: CycleState, pod: PodInfo, scores: Int64Array) -> Int64Array:
        return default_normalize(scores)

    def normalize_list(self, state: CycleState, pod: PodInfo, scores: list[int]) -> list[int]:
        return default_normalize_list(scores)
