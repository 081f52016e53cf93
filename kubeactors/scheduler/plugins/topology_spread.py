"""PodTopologySpread: hard constraints filter by skew, soft ones score, as upstream.

Counting is vectorised through the cache's count columns (pods matching a
selector, per node) summed per topology domain with `NodeTable.domain_totals`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._cache import Cache, MatchKey, MatchLog, NodeInfo, pod_matches
from .._podinfo import HOSTNAME_LABEL, PodInfo, SpreadConstraint
from .._table import BoolArray, Int64Array, IntArray
from .._workloads import Workloads
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
from .node_affinity import node_matches, nodes_matching
from .taints import taint_mask, untolerated

__all__ = ["SYSTEM_DEFAULTS", "PodTopologySpread"]

ZONE_LABEL = "topology.kubernetes.io/zone"
SYSTEM_DEFAULTS: list[dict[str, Any]] = [
    {"maxSkew": 3, "topologyKey": HOSTNAME_LABEL, "whenUnsatisfiable": "ScheduleAnyway"},
    {
        "maxSkew": 5,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway",
    },
]
"""Upstream's default constraints when `defaultingType: System`."""

Rows = npt.NDArray[np.intp]

_KEPT_WINDOWS = 128
"""Windows of rows a soft constraint keeps the domain codes of (a run at 1,000
nodes comes round in 50)."""

_MISSING = "node(s) didn't match pod topology spread constraints (missing required label)"
_SKEW = "node(s) didn't match pod topology spread constraints"


def _key(constraint: SpreadConstraint, pod: PodInfo) -> MatchKey:
    return ((constraint.selector, frozenset({pod.namespace})),)


@dataclass(slots=True)
class _Hard:
    constraint: SpreadConstraint
    self_match: int
    min_match: int
    allowed: BoolArray | None = None
    """Vectorised: per domain code, whether the pod may go there; last, False for
    nodes without the topology key."""
    everywhere: bool = False
    """Vectorised: every present node passes this constraint."""
    counts: dict[str, int] | None = None
    """Reference: matching pods per domain value."""


@dataclass(slots=True)
class _Domains:
    """What a hard constraint counts over, from the nodes alone: kept for the replicas
    of one template until a node changes."""

    counting: BoolArray
    """Per row: eligible, present and carrying every key of the pod's constraints."""
    codes: npt.NDArray[np.int32]
    """The constraint's domain code of each counting row."""
    domains: int
    seen: BoolArray
    """Per domain code: some counting row is in it."""
    found: int
    everywhere: bool
    """Every present row has the constraint's key: if every domain is allowed, every
    node passes."""


@dataclass(slots=True)
class _SoftDomains:
    """What a soft constraint sums over, from the nodes alone: kept for the replicas
    of one template until a node changes."""

    codes: Rows
    """Per row: the constraint's domain code (-1: the node lacks the key)."""
    counting: Rows
    """The rows whose matching pods count toward their domain: eligible, present
    and keyed (with every key of the pod's constraints when all are required)."""
    counting_codes: Rows
    domains: int
    slots: Rows
    """Per row: its domain code plus one if it is counting, else 0, so that one
    bincount over every row's matching pods gives (after slot 0) each domain's sum."""
    per_node: IntArray
    """The count column of the pods the constraint selects (the table's own, which
    stays the same array until a row is made, so until a node changes)."""
    log: MatchLog
    """The changes to `per_node`."""
    sums: Int64Array | None = None
    """Per slot: the matching pods summed, kept up to date from the match log."""
    position: int = 0
    """The match log's position `sums` are up to date with."""
    windows: dict[int, tuple[Rows, Rows, float]] = field(default_factory=dict)
    """Read-only windows of rows (by identity, each held) -> their domain codes and
    the weight their count of distinct domains gives (see `_window_codes`)."""


@dataclass(slots=True)
class _SoftMemo:
    """The soft constraints' `_SoftDomains`, kept with the key they were made for."""

    key: tuple[int, bytes, list[SpreadConstraint], bool]
    has_all: BoolArray
    """Per row: it has every key of the constraints."""
    domains: list[_SoftDomains]
    keyed: bool
    """Every present row has every key: any window of present rows is scored whole,
    and every node in it scores on every constraint."""


@dataclass(slots=True)
class _Soft:
    constraints: list[SpreadConstraint]
    weights: list[float]
    counts: list[Any]
    """Per constraint: per-row totals (vectorised) or per-value counts (reference)."""
    ignored: Any
    """Per scored row, in order: lacks a key (an array, or a list in the reference);
    None (vectorised): no row does."""
    total: npt.NDArray[np.floating[Any]] | None = None
    """Vectorised, when no row lacks a key: the unrounded score of each row, summed
    over the constraints at PreScore (`counts` is then empty)."""


class PodTopologySpread(PreFilterPlugin, FilterPlugin, PreScorePlugin, NormalizeScorePlugin):
    name = "PodTopologySpread"
    stable_skip = True

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        defaulting = args.get("defaultingType", "System")
        if defaulting not in ("System", "List"):
            raise ValueError(f"defaultingType: unsupported value {defaulting!r}")
        listed = list(args.get("defaultConstraints") or [])
        if defaulting == "System" and listed:
            raise ValueError("defaultConstraints: must be empty when defaultingType is System")
        self.system_defaulted = defaulting == "System"
        self.defaults: list[dict[str, Any]] = SYSTEM_DEFAULTS if self.system_defaulted else listed
        self._domains: tuple[tuple[int, bytes, list[SpreadConstraint]], list[_Domains]] | None = (
            None
        )
        """The last pod signature's `_Domains` per hard constraint, with the node
        version and the constraints they were computed for."""
        self._soft_domains: _SoftMemo | None = None
        """The same for soft constraints."""
        self._defaulted: (
            tuple[tuple[bytes, Workloads, int], tuple[tuple[SpreadConstraint, ...], bool]] | None
        ) = None
        """The default constraints of the last pod signature they were made for, with
        the workloads' version then (they follow Services and controllers)."""

    def _constraints(self, pod: PodInfo, cache: Cache) -> tuple[tuple[SpreadConstraint, ...], bool]:
        """The pod's constraints, or the defaults; and whether every key is required.

        Default constraints apply to a pod without constraints of its own, selecting
        the pods of its workload (the Services selecting it, its ReplicaSet or
        ReplicationController); a pod of no workload gets none, as upstream.
        """
        if pod.spread or not self.defaults:
            return pod.spread, True
        workloads = cache.workloads
        # The signature holds all of the pod the defaults read (namespace, labels,
        # controller): one template's replicas share them until a workload changes.
        memo_key = (pod.signature, workloads, workloads.version)
        memo = self._defaulted
        if pod.signature and memo is not None and memo[0] == memo_key:
            return memo[1]
        selector = workloads.default_selector(pod)
        found: tuple[tuple[SpreadConstraint, ...], bool]
        if selector is None:
            found = (), True
        else:
            found = (
                tuple(
                    SpreadConstraint(
                        int(item.get("maxSkew", 1)),
                        str(item.get("topologyKey", HOSTNAME_LABEL)),
                        str(item.get("whenUnsatisfiable", "ScheduleAnyway")),
                        selector,
                    )
                    for item in self.defaults
                ),
                not self.system_defaulted,
            )
        if pod.signature:
            self._defaulted = (memo_key, found)
        return found

    # -- eligible nodes (node inclusion policies) --------------------------------

    def _eligible_rows(self, pod: PodInfo, constraint: SpreadConstraint, cache: Cache) -> BoolArray:
        table = cache.table
        n = table.size
        mask = table.present[:n].copy()
        if constraint.node_affinity_policy == "Honor":
            matching = nodes_matching(table, pod)
            if matching is not None:
                mask &= matching
        if constraint.node_taints_policy == "Honor":
            tolerated = taint_mask(table, pod)
            if tolerated is not None:
                mask &= tolerated
        return mask

    @staticmethod
    def _eligible_node(pod: PodInfo, constraint: SpreadConstraint, node: NodeInfo) -> bool:
        if node.view is None:
            return False
        if constraint.node_affinity_policy == "Honor" and not node_matches(pod, node):
            return False
        if constraint.node_taints_policy == "Honor":
            return untolerated(pod, node) is None
        return True

    # -- filter --------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status | None:
        constraints = [c for c in self._constraints(pod, snapshot.cache)[0] if c.hard]
        if not constraints:
            state.skip_filter.add(self.name)
            return None
        cache = snapshot.cache
        keys = [c.topology_key for c in constraints]
        hard: list[_Hard] = []
        if snapshot.reference:
            for constraint in constraints:
                counts: dict[str, int] = {}
                key = _key(constraint, pod)
                for node in cache.present():
                    labels = node.labels
                    if not all(k in labels for k in keys):
                        continue
                    if not self._eligible_node(pod, constraint, node):
                        continue
                    value = labels[constraint.topology_key]
                    matching = sum(pod_matches(key, other) for other in node.pods.values())
                    counts[value] = counts.get(value, 0) + matching
                minimum = min(counts.values()) if len(counts) >= constraint.min_domains else 0
                hard.append(_Hard(constraint, _self_match(constraint, pod), minimum, counts=counts))
        else:
            n = cache.table.size
            for constraint, domains in zip(
                constraints, self._hard_domains(pod, constraints, cache), strict=True
            ):
                per_node = cache.match_counts(_key(constraint, pod))
                sums = np.bincount(
                    domains.codes,
                    weights=per_node[:n][domains.counting],
                    minlength=domains.domains,
                ).astype(np.int64)
                found = domains.found
                minimum = (
                    int(sums[domains.seen].min())
                    if found and found >= constraint.min_domains
                    else 0
                )
                self_match = _self_match(constraint, pod)
                # Per domain, whether one more pod keeps the skew; a last entry for
                # nodes without the key (code -1), which never pass.
                allowed = np.append(sums + self_match - minimum <= constraint.max_skew, False)
                everywhere = domains.everywhere and bool(allowed[:-1].all())
                hard.append(
                    _Hard(constraint, self_match, minimum, allowed=allowed, everywhere=everywhere)
                )
        state.data[self.name] = hard
        return None

    def _hard_domains(
        self, pod: PodInfo, constraints: list[SpreadConstraint], cache: Cache
    ) -> list[_Domains]:
        """The `_Domains` of each hard constraint of `pod`, from the last pod's if it
        had the same signature (so the same affinity and tolerations) and constraints
        (defaults follow Services and controllers) and no node changed since."""
        table = cache.table
        memo_key = (table.node_version, pod.signature, constraints)
        if pod.signature and self._domains is not None and self._domains[0] == memo_key:
            return self._domains[1]
        n = table.size
        present = table.present[:n]
        has_all = np.ones(n, np.bool_)
        for constraint in constraints:
            has_all &= table.label_column(constraint.topology_key)[:n] >= 0
        found_domains = []
        for constraint in constraints:
            counting = self._eligible_rows(pod, constraint, cache) & has_all
            codes = table.label_column(constraint.topology_key)[:n][counting]
            domains = len(table.label_values[constraint.topology_key])
            seen = np.bincount(codes, minlength=domains) > 0
            keyed = table.label_column(constraint.topology_key)[:n][present] >= 0
            everywhere = bool(keyed.all())
            found_domains.append(
                _Domains(counting, codes, domains, seen, int(seen.sum()), everywhere)
            )
        if pod.signature:
            self._domains = (memo_key, found_domains)
        return found_domains

    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        hard: list[_Hard] = state.data[self.name]
        table = snapshot.cache.table
        n = table.size
        mask: BoolArray | None = None
        for item in hard:
            assert item.allowed is not None
            if item.everywhere:
                continue  # every present node passes: no mask to build
            passed = item.allowed[table.label_column(item.constraint.topology_key)[:n]]
            mask = passed if mask is None else mask & passed
        return mask

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        hard: list[_Hard] = state.data[self.name]
        labels = node.labels
        for item in hard:
            if item.constraint.topology_key not in labels:
                return Status.unschedulable(_MISSING, resolvable=False)
        for item in hard:
            assert item.counts is not None
            matched = item.counts.get(labels[item.constraint.topology_key], 0)
            if matched + item.self_match - item.min_match > item.constraint.max_skew:
                return Status.unschedulable(_SKEW)
        return None

    def reasons(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Counter[str]:
        hard: list[_Hard] = state.data[self.name]
        table = snapshot.cache.table
        missing = np.zeros(len(rows), np.bool_)
        for item in hard:
            missing |= table.label_column(item.constraint.topology_key)[rows] < 0
        counts: Counter[str] = Counter()
        if missing.any():
            counts[_MISSING] = int(missing.sum())
        if (~missing).any():
            counts[_SKEW] = int((~missing).sum())
        return counts

    # -- score ---------------------------------------------------------------------

    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Status | None:
        all_constraints, require_all = self._constraints(pod, snapshot.cache)
        constraints = [c for c in all_constraints if not c.hard]
        if not constraints:
            state.skip_score.add(self.name)
            return None
        cache = snapshot.cache
        keys = [c.topology_key for c in constraints]
        if snapshot.reference:
            infos = [cache.by_row(int(row)) for row in rows]
            # System defaults score every node, each on the keys it has (as upstream).
            ignored = [require_all and not all(k in node.labels for k in keys) for node in infos]
            scored = [node for node, skip in zip(infos, ignored, strict=True) if not skip]
            weights = []
            counts_list: list[Any] = []
            for constraint in constraints:
                key_name = constraint.topology_key
                # A node without the key is one more domain to size the weight by.
                values = {node.labels.get(key_name, "") for node in scored}
                size = len(scored) if key_name == HOSTNAME_LABEL else len(values)
                weights.append(math.log(size + 2))
                counts: dict[str, int] = dict.fromkeys(values, 0)
                key = _key(constraint, pod)
                for node in cache.present():
                    if require_all and not all(k in node.labels for k in keys):
                        continue
                    if not self._eligible_node(pod, constraint, node):
                        continue
                    value = node.labels.get(key_name)
                    if value in counts:
                        counts[value] += sum(
                            pod_matches(key, other) for other in node.pods.values()
                        )
                counts_list.append(counts)
            state.data[self.name + "/score"] = _Soft(constraints, weights, counts_list, ignored)
            return None
        memo = self._soft_domains_of(pod, constraints, require_all, cache)
        if memo.keyed:
            state.data[self.name + "/score"] = self._keyed_totals(
                pod, constraints, memo.domains, cache, rows
            )
            return None
        has_all, soft_domains = memo.has_all, memo.domains
        scored_rows = has_all[rows] if require_all else np.ones(len(rows), np.bool_)
        weights = []
        totals_list: list[Any] = []
        for constraint, domains in zip(constraints, soft_domains, strict=True):
            codes = domains.codes[rows]
            if constraint.topology_key == HOSTNAME_LABEL:
                size = int(scored_rows.sum())
            else:
                # Distinct values among the scored rows, lacking the key (-1) being one.
                size = int(np.count_nonzero(np.bincount(codes[scored_rows] + 1)))
            weights.append(math.log(size + 2))
            per_node = cache.match_counts(_key(constraint, pod))
            if constraint.topology_key == HOSTNAME_LABEL:
                totals_list.append(per_node[rows].astype(np.int64))
                continue
            sums = np.bincount(
                domains.counting_codes,
                weights=per_node[domains.counting],
                minlength=domains.domains,
            ).astype(np.int64)
            keyed = codes >= 0
            totals = np.zeros(len(rows), np.int64)
            totals[keyed] = sums[codes[keyed]]
            totals_list.append(totals)
        state.data[self.name + "/score"] = _Soft(constraints, weights, totals_list, ~scored_rows)
        return None

    def _soft_domains_of(
        self, pod: PodInfo, constraints: list[SpreadConstraint], require_all: bool, cache: Cache
    ) -> _SoftMemo:
        """The rows having every key of `constraints` and each one's `_SoftDomains`,
        from the last pod's if it had the same signature and constraints and no node
        changed since (as `_hard_domains`)."""
        table = cache.table
        memo_key = (table.node_version, pod.signature, constraints, require_all)
        memo = self._soft_domains
        if pod.signature and memo is not None and memo.key == memo_key:
            return memo
        n = table.size
        has_all = np.ones(n, np.bool_)
        for constraint in constraints:
            has_all &= table.label_column(constraint.topology_key)[:n] >= 0
        found = []
        for constraint in constraints:
            key_name = constraint.topology_key
            codes = table.label_column(key_name)[:n].astype(np.intp)
            counting = self._eligible_rows(pod, constraint, cache) & (codes >= 0)
            if require_all:
                counting &= has_all
            rows = np.flatnonzero(counting)
            domains = len(table.label_values[key_name])
            slots = np.where(counting, codes + 1, 0).astype(np.intp)
            key = _key(constraint, pod)
            per_node = cache.match_counts(key)
            found.append(
                _SoftDomains(
                    codes, rows, codes[rows], domains, slots, per_node, cache.match_log(key)
                )
            )
        keyed = bool(has_all[table.present[:n]].all())
        memo = _SoftMemo(memo_key, has_all, found, keyed)
        if pod.signature:
            self._soft_domains = memo
        return memo

    def _keyed_totals(
        self,
        pod: PodInfo,
        constraints: list[SpreadConstraint],
        soft_domains: list[_SoftDomains],
        cache: Cache,
        rows: Rows,
    ) -> _Soft:
        """PreScore and Score at once when every row has every key: each row's
        unrounded score, the same sums in the same order as `score_all` makes them
        from the per-row totals of the general case."""
        weights = []
        total: npt.NDArray[np.floating[Any]] | None = None
        for constraint, domains in zip(constraints, soft_domains, strict=True):
            skew = float(constraint.max_skew - 1)
            part: npt.NDArray[np.floating[Any]]
            if constraint.topology_key == HOSTNAME_LABEL:
                weight = math.log(len(rows) + 2)
                part = domains.per_node[rows] * weight + skew
            else:
                codes, weight = self._window_codes(domains, rows)
                sums = self._domain_sums(domains)
                # Per domain, then per row: the same value as per row from the totals.
                part = (sums[1:] * weight + skew)[codes]
            weights.append(weight)
            if total is None:
                total = part
            else:
                total += part
        return _Soft(constraints, weights, [], None, total)

    @staticmethod
    def _window_codes(domains: _SoftDomains, rows: Rows) -> tuple[Rows, float]:
        """The domain code of each of `rows` (every one has one), and the weight of
        the constraint over them: the log of their distinct domains plus two.

        A window that cannot change (read-only, owning its data: a run's windows,
        which come round again) is worked out once and kept with it.
        """
        kept = not rows.flags.writeable and rows.base is None
        if kept:
            found = domains.windows.get(id(rows))
            if found is not None and found[0] is rows:
                return found[1], found[2]
        codes = domains.codes[rows]
        weight = math.log(int(np.count_nonzero(np.bincount(codes))) + 2)
        if kept:
            if len(domains.windows) >= _KEPT_WINDOWS:
                domains.windows.clear()
            domains.windows[id(rows)] = (rows, codes, weight)
        return codes, weight

    @staticmethod
    def _domain_sums(domains: _SoftDomains) -> Int64Array:
        """Per slot of `domains`, the pods its column counts: summed once, then brought
        up to date from the changes the column's log shows since (a run of replicas
        adds one per pod placed)."""
        log = domains.log
        sums = domains.sums
        changes = log.since(domains.position) if sums is not None else None
        if sums is None or changes is None:
            sums = np.bincount(
                domains.slots,
                weights=domains.per_node[: len(domains.slots)],
                minlength=domains.domains + 1,
            ).astype(np.int64)
            domains.sums = sums
        else:
            slots = domains.slots
            for row, sign in changes:
                slot = slots[row]
                if slot:
                    sums[slot] += sign
        domains.position = log.end
        return sums

    def score_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Int64Array:
        soft: _Soft = state.data[self.name + "/score"]
        if soft.total is not None:
            keyed: Int64Array = np.floor(soft.total + 0.5).astype(np.int64)
            return keyed
        table = snapshot.cache.table
        total = np.zeros(len(rows), np.float64)
        for constraint, weight, totals in zip(
            soft.constraints, soft.weights, soft.counts, strict=True
        ):
            has = table.label_column(constraint.topology_key)[rows] >= 0
            total += np.where(has, totals * weight + float(constraint.max_skew - 1), 0.0)
        result: Int64Array = np.floor(total + 0.5).astype(np.int64)
        return result

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        soft: _Soft = state.data[self.name + "/score"]
        total = 0.0
        for constraint, weight, counts in zip(
            soft.constraints, soft.weights, soft.counts, strict=True
        ):
            value = node.labels.get(constraint.topology_key)
            if value is None:
                continue
            if constraint.topology_key == HOSTNAME_LABEL:
                key = _key(constraint, pod)
                count = sum(pod_matches(key, other) for other in node.pods.values())
            else:
                count = counts.get(value, 0)
            total += count * weight + float(constraint.max_skew - 1)
        return math.floor(total + 0.5)

    def normalize(self, state: CycleState, pod: PodInfo, scores: Int64Array) -> Int64Array:
        soft: _Soft = state.data[self.name + "/score"]
        ignored: BoolArray | None = soft.ignored
        if ignored is None:
            if not len(scores):
                return np.zeros(0, np.int64)
            low, high = int(scores.min()), int(scores.max())
            if high == 0:
                return np.full(len(scores), MAX_NODE_SCORE, np.int64)
            normalised: Int64Array = MAX_NODE_SCORE * (high + low - scores) // high
            return normalised
        considered = scores[~ignored]
        if not len(considered):
            return np.zeros(len(scores), np.int64)
        low, high = int(considered.min()), int(considered.max())
        if high == 0:
            result = np.full(len(scores), MAX_NODE_SCORE, np.int64)
        else:
            result = MAX_NODE_SCORE * (high + low - scores) // high
        result[ignored] = 0
        return result

    def normalize_list(self, state: CycleState, pod: PodInfo, scores: list[int]) -> list[int]:
        soft: _Soft = state.data[self.name + "/score"]
        ignored: list[bool] = soft.ignored
        considered = [s for s, skip in zip(scores, ignored, strict=True) if not skip]
        if not considered:
            return [0] * len(scores)
        low, high = min(considered), max(considered)
        return [
            0
            if skip
            else MAX_NODE_SCORE
            if high == 0
            else MAX_NODE_SCORE * (high + low - s) // high
            for s, skip in zip(scores, ignored, strict=True)
        ]


def _self_match(constraint: SpreadConstraint, pod: PodInfo) -> int:
    selector = constraint.selector
    return int(selector is not None and selector.matches(pod.labels))
