"""The scheduler's cache: nodes and the pods placed on them, in two forms.

The node table (numpy columns) serves the vectorised engine; one `NodeInfo` per
node (plain dicts and lists) serves the reference engine and the rare paths
(failure messages, preemption). Both change together, so the two engines always
look at the same cluster, assumed pods included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ._podinfo import AffinityTerm, HostPort, NodeView, PodInfo
from ._selectors import LabelSelector
from ._table import IntArray, NodeTable
from ._workloads import Workloads

NAME_FIELD = " metadata.name"
"""The table's label key holding each node's name (a space: no real label clashes)."""

__all__ = [
    "MATCH_LOG_SIZE",
    "NAME_FIELD",
    "Cache",
    "MatchKey",
    "MatchLog",
    "NodeInfo",
    "Placement",
    "TermKey",
    "carried_terms",
    "pod_matches",
]

MatchKey = tuple[tuple[LabelSelector | None, frozenset[str] | None], ...]
"""Which pods a count column counts: those matching every (selector, namespaces) pair
(namespaces None: all)."""

TermKey = tuple[str, AffinityTerm, int]
"""A term carried by placed pods: (kind, term, weight); kinds below."""

_MATCHED_SIGNATURES = 1024
"""Pod signatures whose matching selectors are kept (all dropped past it)."""

MATCH_LOG_SIZE = 1024
"""Changes kept per selector's count column (see `MatchLog`)."""

TERM_KINDS = ("required-affinity", "required-anti", "preferred-affinity", "preferred-anti")


@dataclass(slots=True)
class NodeInfo:
    """One node and the pods counted on it, for the reference engine."""

    name: str
    row: int
    view: NodeView | None = None
    pods: dict[str, PodInfo] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)
    nonzero_cpu: int = 0
    nonzero_memory: int = 0
    ports: list[HostPort] = field(default_factory=list)

    @property
    def labels(self) -> dict[str, str]:
        return self.view.labels if self.view is not None else {}


class MatchLog:
    """The changes to one selector's count column, in order: (row, +1 or -1) each.

    What sums over the column (a spreading constraint's domains) can then be brought
    up to date from the changes since it was summed, instead of summed again. Only the
    last `MATCH_LOG_SIZE` or so changes are kept; older positions have to sum again.
    """

    __slots__ = ("base", "changes")

    def __init__(self) -> None:
        self.base = 0
        """The position of `changes[0]`: how many changes were dropped before it."""
        self.changes: list[tuple[int, int]] = []

    @property
    def end(self) -> int:
        """The position after the last change so far."""
        return self.base + len(self.changes)

    def since(self, position: int) -> list[tuple[int, int]] | None:
        """The changes from `position` on; None if some of them are no longer kept."""
        if position < self.base:
            return None
        return self.changes[position - self.base :]

    def add(self, row: int, sign: int) -> None:
        changes = self.changes
        if len(changes) >= MATCH_LOG_SIZE:
            self.base += len(changes)
            changes.clear()
        changes.append((row, sign))


@dataclass(slots=True)
class Placement:
    info: PodInfo
    node: str
    row: int
    assumed: bool
    """True from the scheduler's choice until the informer shows the pod bound."""
    since: float = 0.0


def carried_terms(info: PodInfo) -> Iterator[TermKey]:
    for term in info.affinity:
        yield ("required-affinity", term, 1)
    for term in info.anti_affinity:
        yield ("required-anti", term, 1)
    for weighted in info.preferred_affinity:
        yield ("preferred-affinity", weighted.term, weighted.weight)
    for weighted in info.preferred_anti_affinity:
        yield ("preferred-anti", weighted.term, weighted.weight)


class Cache:
    """Nodes, placed pods and per-node pod counts; the one view both engines read."""

    def __init__(self) -> None:
        self.table = NodeTable()
        self.nodes: dict[str, NodeInfo] = {}
        """Every row's NodeInfo by node name, present or known only through pods."""
        self.placed: dict[str, Placement] = {}
        self.terms: set[TermKey] = set()
        """Terms placed pods carry; `term_counts(key)` counts them per node."""
        self.matches: set[MatchKey] = set()
        """Selectors asked about; `match_counts` counts matching pods per node."""
        self.match_logs: dict[MatchKey, MatchLog] = {}
        """Per selector asked about: the changes to its count column, in order."""
        self._matched: dict[bytes, list[MatchKey]] = {}
        """Per pod signature, the selectors asked about that its pods match."""
        self.term_pods = 0
        """Placed pods carrying any pod (anti-)affinity term."""
        self.workloads = Workloads()
        """Services and controllers, for PodTopologySpread's default constraints."""
        self.namespace_labels: dict[str, dict[str, str]] = {}
        """Labels of each namespace, for pod affinity terms' namespaceSelectors."""
        self.evicting: set[str] = set()
        """Placed pods the scheduler has asked to delete (preemption victims) and has
        not yet seen go: they count as terminating."""
        self.nominations: dict[str, tuple[str, PodInfo]] = {}
        """Pending pods nominated to a node (by preemption): key -> (node, pod)."""
        self.nominated: dict[str, dict[str, PodInfo]] = {}
        """The same by node: node -> key -> pod."""

    # -- nodes -------------------------------------------------------------------

    def _info(self, name: str) -> NodeInfo:
        info = self.nodes.get(name)
        if info is None:
            info = self.nodes[name] = NodeInfo(name, self.table.row(name))
        return info

    def set_node(self, view: NodeView) -> None:
        info = self._info(view.name)
        info.view = view
        self.table.set_node(
            view.name,
            view.allocatable,
            schedulable=not view.unschedulable,
            labels={**view.labels, NAME_FIELD: view.name},
            taints=view.taints,
            images=view.images,
        )

    def remove_node(self, name: str) -> None:
        info = self.nodes.get(name)
        if info is None:
            return
        info.view = None
        self.table.remove_node(name)
        if not info.pods:
            del self.nodes[name]

    def present(self) -> list[NodeInfo]:
        """NodeInfos of present nodes, in the table's row order."""
        names = self.table.names
        return [self.nodes[names[row]] for row in self.table.present_rows()]

    def by_row(self, row: int) -> NodeInfo:
        return self.nodes[self.table.names[row]]

    # -- pods --------------------------------------------------------------------

    def add(self, info: PodInfo, node: str, *, assumed: bool, since: float = 0.0) -> Placement:
        node_info = self._info(node)
        row = node_info.row
        placement = Placement(info, node, row, assumed, since)
        self.placed[info.key] = placement
        self._count(info, node_info, +1)
        return placement

    def remove(self, key: str) -> Placement | None:
        placement = self.placed.pop(key, None)
        if placement is None:
            return None
        node_info = self.nodes[placement.node]
        self._count(placement.info, node_info, -1)
        if node_info.view is None and not node_info.pods:
            del self.nodes[placement.node]
        return placement

    def _count(self, info: PodInfo, node: NodeInfo, sign: int) -> None:
        row = node.row
        nonzero = (info.nonzero_cpu, info.nonzero_memory)
        if sign > 0:
            node.pods[info.key] = info
            for resource, amount in info.requests.items():
                node.requested[resource] = node.requested.get(resource, 0) + amount
            node.ports.extend(info.host_ports)
        else:
            del node.pods[info.key]
            for resource, amount in info.requests.items():
                node.requested[resource] -= amount
            for port in info.host_ports:
                node.ports.remove(port)
        node.nonzero_cpu += sign * info.nonzero_cpu
        node.nonzero_memory += sign * info.nonzero_memory
        if self.matches and not info.terminating:
            counts = self.table.counts
            logs = self.match_logs
            for key in self._matching(info):
                counts[("match", key)][row] += sign
                logs[key].add(row, sign)
        if (
            info.affinity
            or info.anti_affinity
            or info.preferred_affinity
            or info.preferred_anti_affinity
        ):
            self.term_pods += sign
            for term in carried_terms(info):
                self.terms.add(term)
                self.table.count_column(("term", term))[row] += sign
        # The table last: removing the last pod of a departed node frees its row.
        if sign > 0:
            self.table.add_pod(row, info.requests, nonzero, info.host_ports)
        else:
            self.table.remove_pod(row, info.requests, nonzero, info.host_ports)

    def _matching(self, info: PodInfo) -> list[MatchKey]:
        """The selectors asked about that `info` matches: worked out once per pod
        signature (which holds its namespace and labels) until a selector is added."""
        signature = info.signature
        found = self._matched.get(signature) if signature else None
        if found is None:
            found = [key for key in self.matches if _matches_all(key, info)]
            if signature:
                if len(self._matched) >= _MATCHED_SIGNATURES:
                    self._matched.clear()
                self._matched[signature] = found
        return found

    def match_counts(self, key: MatchKey) -> IntArray:
        """Per row: placed, non-terminating pods matching every pair of `key`.

        The column is built on first use and kept up to date from then on.
        """
        if key in self.matches:
            return self.table.counts[("match", key)]
        self.matches.add(key)
        self.match_logs[key] = MatchLog()
        self._matched.clear()
        column = self.table.count_column(("match", key))
        for placement in self.placed.values():
            if not placement.info.terminating and _matches_all(key, placement.info):
                column[placement.row] += 1
        return column

    def match_log(self, key: MatchKey) -> MatchLog:
        """The changes to the count column of `key` since `match_counts` made it."""
        return self.match_logs[key]

    def term_counts(self, key: TermKey) -> IntArray:
        """Per row: placed pods carrying the term `key` (a zero column if none does)."""
        return self.table.count_column(("term", key))

    # -- nominations (upstream's nominator) -----------------------------------------

    def nominate(self, info: PodInfo, node: str) -> None:
        """`info` waits for room on `node` (it preempted there): reserve it."""
        self.forget_nomination(info.key)
        self.nominations[info.key] = (node, info)
        self.nominated.setdefault(node, {})[info.key] = info

    def forget_nomination(self, key: str) -> str:
        """Drop the nomination of `key` (placed, deleted or cleared); its node, or ""."""
        found = self.nominations.pop(key, None)
        if found is None:
            return ""
        node = found[0]
        on_node = self.nominated[node]
        del on_node[key]
        if not on_node:
            del self.nominated[node]
        return node

    def nominated_for(self, pod: PodInfo) -> dict[str, list[PodInfo]]:
        """Per node, the pods nominated there that `pod` must leave room for: those of
        equal or higher priority, as upstream's nominator."""
        found: dict[str, list[PodInfo]] = {}
        for node, pods in self.nominated.items():
            wanted = [p for p in pods.values() if p.priority >= pod.priority and p.key != pod.key]
            if wanted:
                found[node] = wanted
        return found

    def pods(self) -> Iterator[tuple[NodeInfo, PodInfo]]:
        for node in self.nodes.values():
            for pod in node.pods.values():
                yield node, pod


def _matches(
    selector: LabelSelector | None, namespaces: frozenset[str] | None, info: PodInfo
) -> bool:
    if selector is None:
        return False
    if namespaces is not None and info.namespace not in namespaces:
        return False
    return selector.matches(info.labels)


def _matches_all(key: MatchKey, info: PodInfo) -> bool:
    return all(_matches(selector, namespaces, info) for selector, namespaces in key)


def pod_matches(key: MatchKey, info: PodInfo) -> bool:
    """True if `info` is a pod the count column of `key` counts."""
    return not info.terminating and _matches_all(key, info)
