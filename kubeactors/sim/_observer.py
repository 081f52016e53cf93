"""Watches a running cluster and keeps the counts a scenario report is made of.

Two informers (pods, nodes) feed incremental counters, so a sample costs nothing
whatever the cluster's size: pods per state, ready pods per Deployment, ready
nodes, evictions, and the time integrals of unschedulable pods. They also record
the run's trace as it happens: every write to a pod or node, as `api_history`
would read it back at the end (the informers start before the first node does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from ..api import Node, Pod
from ..client import Client, Delta, Informer
from ..controllers import is_ready
from ..testing.history import history_line
from .report import FaultOutcome, Sample

__all__ = ["APP_LABEL", "Observer", "Recovery"]

APP_LABEL = "app"

STABLE_S = 30.0
"""How long the cluster must stay whole for a recovery to count (not a flicker)."""


def _state(pod: Pod) -> str:
    phase = pod.status.phase
    if phase == "Succeeded":
        return "succeeded"
    if phase == "Failed":
        return "failed"
    if pod.metadata.deletion_timestamp is not None:
        return "terminating"
    if not pod.spec.node_name:
        return "pending"
    return "running" if phase == "Running" else "starting"


def _unschedulable(pod: Pod) -> bool:
    if pod.spec.node_name or pod.metadata.deletion_timestamp is not None:
        return False
    return any(
        c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable"
        for c in pod.status.conditions
    )


def _node_ready(node: Node) -> bool:
    # Loops, not any() over a generator: every node's status post comes through here.
    for condition in node.status.conditions:
        if condition.type == "Ready" and condition.status == "True":
            return True
    return False


def _evicting(node: Node) -> bool:
    """The node carries a NoExecute taint (its pods are being evicted)."""
    for taint in node.spec.taints:  # noqa: SIM110
        if taint.effect == "NoExecute":
            return True
    return False


class _PodView:
    """What the counters last counted of one pod."""

    __slots__ = ("app", "node", "ready", "state", "unschedulable")

    def __init__(self, pod: Pod) -> None:
        self.state = _state(pod)
        self.app = pod.metadata.labels.get(APP_LABEL, "")
        self.ready = self.state == "running" and is_ready(pod)
        self.unschedulable = _unschedulable(pod)
        self.node = pod.spec.node_name


class Recovery:
    """One fault's recovery being measured (see `FaultOutcome`).

    Open until it recovers, or until it is clear the fault had no impact: another
    fault starts first, or its end passed `settle` seconds ago with no impact.
    """

    __slots__ = ("at", "closed", "ends", "impact", "kind", "recovered", "target", "whole_since")

    def __init__(self, kind: str, at: float, ends: float | None, target: str) -> None:
        self.kind = kind
        self.at = at
        self.ends = ends
        self.target = target
        self.impact: float | None = None
        self.recovered: float | None = None
        self.whole_since: float | None = None
        self.closed = False

    def outcome(self) -> FaultOutcome:
        return FaultOutcome(
            kind=self.kind,
            at=self.at,
            ends=self.ends,
            target=self.target,
            impact_s=None if self.impact is None else self.impact - self.at,
            recovered_s=None if self.recovered is None else self.recovered - self.at,
        )


class Observer:
    """Counts what the cluster does, from its pod and node informers.

    `now()` gives virtual seconds since the start of the run. `desired` maps each
    Deployment's app label to the replicas the scenario wants now; `held` names the
    nodes a fault holds down (not expected Ready), of which `down` are switched off
    (their pods serve nothing, whatever the API still says). `expected_deletions`
    are pods the scenario deletes itself, which are not evictions. `settle` is how
    long after a fault ends its impact may still show (a returning node reports
    Ready with its next status).
    """

    def __init__(self, client: Client, now: Callable[[], float], *, settle: float) -> None:
        self.now = now
        self.pods: Informer[Pod] = Informer(client, Pod)
        self.nodes: Informer[Node] = Informer(client, Node)
        self.pods.add_batch_handler(self._on_pods)
        self.nodes.add_batch_handler(self._on_nodes)
        self.desired: dict[str, int] = {}
        self.held: set[str] = set()
        self.down: set[str] = set()
        self._returning: dict[str, float] = {}
        self.settle_s = settle
        self.expected_deletions: set[str] = set()
        self._views: dict[str, _PodView] = {}
        self._states: Counter[str] = Counter()
        self._ready = 0
        self._ready_by_app: Counter[str] = Counter()
        self._ready_by_node: dict[str, Counter[str]] = {}
        self._not_ready_nodes: set[str] = set()
        self._evicting_nodes: set[str] = set()
        self._bound: set[str] = set()
        self.created = 0
        self.scheduled = 0
        self.succeeded = 0
        self.evictions = 0
        self.unschedulable = 0
        self.unschedulable_s = 0.0
        self.unschedulable_pod_s = 0.0
        self._since = 0.0
        self.recoveries: list[Recovery] = []
        self._trace: list[tuple[int, str]] = []

    # -- feeding the counters ---------------------------------------------------------

    def _advance(self) -> None:
        """Add the time since the last change to the unschedulable integrals."""
        now = self.now()
        if self.unschedulable:
            elapsed = now - self._since
            self.unschedulable_s += elapsed
            self.unschedulable_pod_s += elapsed * self.unschedulable
        self._since = now

    def _count(self, view: _PodView, sign: int) -> None:
        self._states[view.state] += sign
        if view.ready:
            self._ready += sign
        if view.ready and view.app:
            self._ready_by_app[view.app] += sign
            by_app = self._ready_by_node.get(view.node)
            if by_app is None:
                by_app = self._ready_by_node[view.node] = Counter()
            by_app[view.app] += sign
        if view.unschedulable:
            self.unschedulable += sign

    async def _on_pods(self, deltas: list[Delta[Pod]]) -> None:
        self._advance()
        trace = self._trace
        for delta in deltas:
            pod = delta.object
            trace.append(history_line(delta.type, pod))
            key = f"{pod.metadata.namespace}/{pod.metadata.name}"
            old = self._views.pop(key, None)
            if old is not None:
                self._count(old, -1)
            else:
                self.created += 1
            deleted = delta.type == "DELETED"
            if not deleted:
                view = _PodView(pod)
                self._views[key] = view
                self._count(view, 1)
                uid = pod.metadata.uid
                if view.node and uid not in self._bound:
                    self._bound.add(uid)
                    self.scheduled += 1
                if view.state == "succeeded" and (old is None or old.state != "succeeded"):
                    self.succeeded += 1
            leaving = deleted or pod.metadata.deletion_timestamp is not None
            was_leaving = old is not None and old.state == "terminating"
            if leaving and not was_leaving and old is not None:
                self._count_eviction(key, old)
        self._judge()

    def _count_eviction(self, key: str, old: _PodView) -> None:
        if key in self.expected_deletions:
            self.expected_deletions.discard(key)
            return
        if old.state in ("succeeded", "failed") or not old.node:
            return
        if old.node in self._evicting_nodes:
            self.evictions += 1

    async def _on_nodes(self, deltas: list[Delta[Node]]) -> None:
        trace, not_ready, evicting = self._trace, self._not_ready_nodes, self._evicting_nodes
        for delta in deltas:
            node = delta.object
            trace.append(history_line(delta.type, node))
            name = node.metadata.name
            present = delta.type != "DELETED"
            if present and not _node_ready(node):
                not_ready.add(name)
            else:
                not_ready.discard(name)
                self._returning.pop(name, None)
            if present and _evicting(node):
                evicting.add(name)
            else:
                evicting.discard(name)
        self._judge()

    # -- what the runner asks -----------------------------------------------------------

    def whole(self) -> bool:
        """Every Deployment full and Ready, nothing unschedulable, every free node Ready."""
        if self.unschedulable:
            return False
        ready = self._ready_by_app
        lost: Counter[str] = Counter()
        for node in self.down:
            lost.update(self._ready_by_node.get(node, Counter()))
        if any(ready[app] - lost[app] < want for app, want in self.desired.items()):
            return False
        now = self.now()
        return all(
            name in self.held or self._returning.get(name, -1.0) >= now
            for name in self._not_ready_nodes
        )

    def release(self, name: str) -> None:
        """A fault lets node `name` go: it has `settle` seconds to turn Ready again."""
        self.held.discard(name)
        self.down.discard(name)
        if name in self._not_ready_nodes:
            self._returning[name] = self.now() + self.settle_s

    def _judge(self) -> None:
        """Move each open recovery on: first impact, then a lasting return to whole."""
        open_ = [r for r in self.recoveries if not r.closed]
        if not open_:
            return
        now = self.now()
        whole = self.whole()
        for recovery in open_:
            if recovery.impact is None:
                if not whole:
                    recovery.impact = now
                elif recovery.ends is not None and now > recovery.ends + self.settle_s:
                    recovery.closed = True  # over, and nothing showed
            elif not whole:
                recovery.whole_since = None
            elif recovery.whole_since is None:
                recovery.whole_since = now
            if recovery.whole_since is not None and now - recovery.whole_since >= STABLE_S:
                recovery.recovered = recovery.whole_since
                recovery.closed = True

    def begin(self) -> None:
        """The run starts now: time integrals count from here."""
        self._since = self.now()

    def track(self, kind: str, ends: float | None, target: str) -> None:
        """Measure the recovery from a fault that starts now (after its first change)."""
        self._advance()
        for recovery in self.recoveries:
            if recovery.impact is None:
                recovery.closed = True  # a new fault: what follows is not the old one's
        self.recoveries.append(Recovery(kind, self.now(), ends, target))
        self._judge()

    def settle(self) -> None:
        """Bring the integrals up to now (before reading them) and judge again."""
        self._advance()
        self._judge()

    def trace(self) -> list[str]:
        """Every write to a pod or node seen so far, in revision order."""
        return [line for _, line in sorted(self._trace)]

    def ready_pods(self, app: str) -> list[Pod]:
        """The Running and Ready pods labelled `app`, by name (a stable order)."""
        pods = []
        for key, view in sorted(self._views.items()):
            if view.app == app and view.ready:
                pod = self.pods.get(key)
                if pod is not None:
                    pods.append(pod)
        return pods

    def sample(self) -> Sample:
        self.settle()
        states = self._states
        nodes = len(self.nodes)
        return Sample(
            t=self.now(),
            nodes=nodes,
            nodes_ready=nodes - len(self._not_ready_nodes),
            pending=states["pending"],
            unschedulable=self.unschedulable,
            starting=states["starting"],
            running=states["running"],
            ready=self._ready,
            terminating=states["terminating"],
            succeeded=states["succeeded"],
            failed=states["failed"],
            evictions=self.evictions,
        )
