"""InterPodAffinity: required (anti-)affinity filters, preferred terms score, as upstream.

Existing pods count whether bound or only assumed, so a pod placed a moment ago
already repels the next one. Vectorised, each term is a count column (pods matching
a selector, or pods carrying a term) summed per topology domain.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._cache import Cache, MatchKey, NodeInfo, TermKey, carried_terms, pod_matches
from .._podinfo import AffinityTerm, PodInfo, WeightedTerm
from .._table import BoolArray, Int64Array
from ..framework import (
    MAX_NODE_SCORE,
    CycleState,
    FilterPlugin,
    Handle,
    NormalizeScorePlugin,
    PreFilterPlugin,
    PreScorePlugin,
    Snapshot,
    Status,
)

__all__ = ["InterPodAffinity"]

Rows = npt.NDArray[np.intp]

_AFFINITY = "node(s) didn't match pod affinity rules"
_ANTI = "node(s) didn't match pod anti-affinity rules"
_EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules"


def _key(*terms: AffinityTerm) -> MatchKey:
    return tuple((term.selector, term.namespaces) for term in terms)


@dataclass(slots=True)
class _Masks:
    """Vectorised PreFilter results: per row, whether each rule holds."""

    affinity: BoolArray
    anti: BoolArray
    existing: BoolArray


@dataclass(slots=True)
class _Counts:
    """Reference PreFilter results: counts per (topology key, value)."""

    affinity: Counter[tuple[str, str]] = field(default_factory=Counter)
    anti: Counter[tuple[str, str]] = field(default_factory=Counter)
    existing: Counter[tuple[str, str]] = field(default_factory=Counter)


class InterPodAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, NormalizeScorePlugin):
    name = "InterPodAffinity"
    stable_skip = True

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        weight = args.get("hardPodAffinityWeight", 1)
        if not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ValueError(f"hardPodAffinityWeight: must be 0..100, got {weight!r}")
        self.hard_weight = weight

    def _existing_anti(self, cache: Cache, pod: PodInfo) -> list[TermKey]:
        namespace_labels = cache.namespace_labels.get(pod.namespace)
        return [
            key
            for key in cache.terms
            if key[0] == "required-anti"
            and key[1].matches(pod.labels, pod.namespace, namespace_labels)
        ]

    # -- filter --------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status | None:
        cache = snapshot.cache
        pod = _resolved(pod, cache)
        state.data[self.name + "/pod"] = pod
        existing = self._existing_anti(cache, pod) if cache.term_pods else []
        if not pod.affinity and not pod.anti_affinity and not existing:
            state.skip_filter.add(self.name)
            return None
        if snapshot.reference:
            state.data[self.name] = self._count_reference(cache, pod)
            return None
        table = cache.table
        n = table.size
        affinity = np.ones(n, np.bool_)
        if pod.affinity:
            counts = cache.match_counts(_key(*pod.affinity))
            any_pods = False
            for term in pod.affinity:
                has = table.label_column(term.topology_key)[:n] >= 0
                any_pods |= bool((counts[:n][has] > 0).any())
            pods_exist = np.ones(n, np.bool_)
            all_keys = np.ones(n, np.bool_)
            for term in pod.affinity:
                all_keys &= table.label_column(term.topology_key)[:n] >= 0
                pods_exist &= table.domain_totals(term.topology_key, counts) > 0
            if not any_pods and all(
                term.matches(pod.labels, pod.namespace) for term in pod.affinity
            ):
                affinity = all_keys
            else:
                affinity = all_keys & pods_exist
        anti = np.ones(n, np.bool_)
        for term in pod.anti_affinity:
            counts = cache.match_counts(_key(term))
            anti &= table.domain_totals(term.topology_key, counts) == 0
        free = np.ones(n, np.bool_)
        for term_key in existing:
            carriers = cache.term_counts(term_key)
            free &= table.domain_totals(term_key[1].topology_key, carriers) == 0
        state.data[self.name] = _Masks(affinity, anti, free)
        return None

    def _count_reference(self, cache: Cache, pod: PodInfo) -> _Counts:
        counts = _Counts()
        namespace_labels = cache.namespace_labels.get(pod.namespace)
        every = _key(*pod.affinity)
        for node, other in cache.pods():
            if node.view is None:
                continue
            labels = node.labels
            if pod.affinity and pod_matches(every, other):
                for term in pod.affinity:
                    if term.topology_key in labels:
                        counts.affinity[(term.topology_key, labels[term.topology_key])] += 1
            for term in pod.anti_affinity:
                if pod_matches(_key(term), other) and term.topology_key in labels:
                    counts.anti[(term.topology_key, labels[term.topology_key])] += 1
            for term in other.anti_affinity:
                if (
                    term.matches(pod.labels, pod.namespace, namespace_labels)
                    and term.topology_key in labels
                ):
                    counts.existing[(term.topology_key, labels[term.topology_key])] += 1
        return counts

    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        masks: _Masks = state.data[self.name]
        return masks.affinity & masks.anti & masks.existing

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        counts: _Counts = state.data[self.name]
        pod = state.data[self.name + "/pod"]
        labels = node.labels
        if pod.affinity:
            pods_exist = True
            for term in pod.affinity:
                value = labels.get(term.topology_key)
                if value is None:
                    return Status.unschedulable(_AFFINITY, resolvable=False)
                if counts.affinity[(term.topology_key, value)] <= 0:
                    pods_exist = False
            if not pods_exist and not (
                not counts.affinity
                and all(term.matches(pod.labels, pod.namespace) for term in pod.affinity)
            ):
                return Status.unschedulable(_AFFINITY, resolvable=False)
        for term in pod.anti_affinity:
            value = labels.get(term.topology_key)
            if value is not None and counts.anti[(term.topology_key, value)] > 0:
                return Status.unschedulable(_ANTI)
        for pair in labels.items():
            if counts.existing[pair] > 0:
                return Status.unschedulable(_EXISTING)
        return None

    def reasons(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Counter[str]:
        masks: _Masks = state.data[self.name]
        affinity_fails = ~masks.affinity[rows]
        anti_fails = ~affinity_fails & ~masks.anti[rows]
        existing_fails = ~affinity_fails & ~anti_fails & ~masks.existing[rows]
        counts: Counter[str] = Counter()
        for reason, fails in (
            (_AFFINITY, affinity_fails),
            (_ANTI, anti_fails),
            (_EXISTING, existing_fails),
        ):
            if fails.any():
                counts[reason] = int(fails.sum())
        return counts

    # -- score ---------------------------------------------------------------------

    def _weighted_terms(self, cache: Cache, pod: PodInfo) -> list[tuple[int, str, Any]]:
        """(signed weight, topology key, what to count): the incoming pod's preferred
        terms (count matching pods) and existing pods' terms matching it (count carriers)."""
        terms: list[tuple[int, str, Any]] = []
        for weighted in pod.preferred_affinity:
            terms.append((weighted.weight, weighted.term.topology_key, _key(weighted.term)))
        for weighted in pod.preferred_anti_affinity:
            terms.append((-weighted.weight, weighted.term.topology_key, _key(weighted.term)))
        if cache.term_pods:
            namespace_labels = cache.namespace_labels.get(pod.namespace)
            for key in cache.terms:
                kind, term, weight = key
                if kind == "required-anti" or not term.matches(
                    pod.labels, pod.namespace, namespace_labels
                ):
                    continue
                if kind == "required-affinity":
                    weight = self.hard_weight
                elif kind == "preferred-anti":
                    weight = -weight
                if weight:
                    terms.append((weight, term.topology_key, key))
        return [t for t in terms if t[0]]

    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Status | None:
        cache = snapshot.cache
        terms = self._weighted_terms(cache, _resolved(pod, cache))
        if not terms:
            state.skip_score.add(self.name)
            return None
        if snapshot.reference:
            scores: dict[tuple[str, str], int] = {}
            for node, other in cache.pods():
                if node.view is None:
                    continue
                labels = node.labels
                for weight, topology_key, what in terms:
                    value = labels.get(topology_key)
                    if value is None:
                        continue
                    if isinstance(what[0], str):
                        counted = what in _carried(other)
                    else:
                        counted = pod_matches(what, other)
                    if counted:
                        pair = (topology_key, value)
                        scores[pair] = scores.get(pair, 0) + weight * _multiplicity(what, other)
            state.data[self.name + "/score"] = scores
            return None
        table = cache.table
        total = np.zeros(len(rows), np.int64)
        for weight, topology_key, what in terms:
            if isinstance(what[0], str):
                counts = cache.term_counts(what)
            else:
                counts = cache.match_counts(what)
            total += weight * table.domain_totals(topology_key, counts)[rows]
        state.data[self.name + "/score"] = total
        return None

    def score_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Int64Array:
        total: Int64Array = state.data[self.name + "/score"]
        return total

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        scores: dict[tuple[str, str], int] = state.data[self.name + "/score"]
        return sum(scores.get(pair, 0) for pair in node.labels.items())

    def normalize(self, state: CycleState, pod: PodInfo, scores: Int64Array) -> Int64Array:
        low, high = int(scores.min()), int(scores.max())
        if high - low <= 0:
            return np.zeros(len(scores), np.int64)
        result: Int64Array = (MAX_NODE_SCORE * ((scores - low) / (high - low))).astype(np.int64)
        return result

    def normalize_list(self, state: CycleState, pod: PodInfo, scores: list[int]) -> list[int]:
        low, high = min(scores), max(scores)
        if high - low <= 0:
            return [0] * len(scores)
        return [int(MAX_NODE_SCORE * ((s - low) / (high - low))) for s in scores]


def _resolved(pod: PodInfo, cache: Cache) -> PodInfo:
    """`pod` with its own terms' namespaceSelectors turned into the namespaces they
    select now (upstream's PreFilter merges them likewise)."""
    weighted = (*pod.preferred_affinity, *pod.preferred_anti_affinity)
    if not any(t.namespace_selector for t in (*pod.affinity, *pod.anti_affinity)) and not any(
        w.term.namespace_selector for w in weighted
    ):
        return pod
    labels = cache.namespace_labels
    return dataclasses.replace(
        pod,
        affinity=tuple(term.resolved(labels) for term in pod.affinity),
        anti_affinity=tuple(term.resolved(labels) for term in pod.anti_affinity),
        preferred_affinity=tuple(
            WeightedTerm(w.weight, w.term.resolved(labels)) for w in pod.preferred_affinity
        ),
        preferred_anti_affinity=tuple(
            WeightedTerm(w.weight, w.term.resolved(labels)) for w in pod.preferred_anti_affinity
        ),
    )


def _carried(pod: PodInfo) -> list[TermKey]:
    return list(carried_terms(pod))


def _multiplicity(what: Any, pod: PodInfo) -> int:
    if isinstance(what[0], str):
        return _carried(pod).count(what)
    return 1
