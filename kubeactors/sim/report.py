"""What a scenario run reports: totals, each fault's recovery, violations, samples, hash."""

from __future__ import annotations

import msgspec

__all__ = ["FaultOutcome", "Sample", "SimReport", "ViolationSeen"]


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    """The cluster at one moment (`t`: virtual seconds since the start of the run).

    Pods are counted by where they are: `pending` not yet bound to a node (of
    which `unschedulable` were found to fit nowhere), `starting` bound but not
    Running, `running` (of which `ready` are Ready: a crash-looping pod is Running
    but not Ready), `terminating` (being deleted); `succeeded` and `failed` are the
    finished pods still present. `evictions` counts all so far.
    """

    t: float
    nodes: int
    nodes_ready: int
    pending: int
    unschedulable: int
    starting: int
    running: int
    ready: int
    terminating: int
    succeeded: int
    failed: int
    evictions: int


class FaultOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One fault as it happened, and how long the cluster took to be whole again.

    The cluster is whole when every Deployment has its replicas Running and Ready
    (pods on switched-off nodes do not count, whatever the API still says), no pod
    is unschedulable, and every node not held down by a fault is Ready (a node a
    fault let go has one status interval to turn Ready before it counts).
    `impact_s`: from the fault's start until the cluster was first not whole (None
    if it stayed whole until the next fault, or until its own end plus one status
    interval); `recovered_s`: from the fault's start until the cluster was whole
    again, to stay so for at least 30 s (None if not by the end of the run).
    """

    kind: str
    at: float
    ends: float | None
    target: str
    impact_s: float | None = None
    recovered_s: float | None = None


class ViolationSeen(msgspec.Struct, frozen=True, kw_only=True):
    """An invariant violation, the first time a check found it."""

    t: float
    invariant: str
    subject: str
    message: str


class SimReport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a run of a scenario found. Every figure follows from the scenario and
    the seed: the same seed gives the same report."""

    scenario: str
    seed: int
    until: float
    nodes: int
    pods_created: int
    pods_scheduled: int
    pods_succeeded: int
    evictions: int
    unschedulable_s: float
    """Virtual seconds during which at least one pod was unschedulable."""
    unschedulable_pod_s: float
    """The same, summed over pods (two pods waiting a minute: 120)."""
    faults: list[FaultOutcome]
    checks: int
    violations: list[ViolationSeen]
    samples: list[Sample]
    api_writes: int
    trace_hash: str
    trace: list[str] = msgspec.field(default_factory=list)
    """The trace's lines (`kubeactors.testing.api_history`), if the run was asked to
    keep them: one per write to a pod or node, with its revision and object hash."""

    def summary(self) -> dict[str, object]:
        """The headline figures, one value each (what `kubeactors sim` tabulates)."""
        recovered = [f.recovered_s for f in self.faults if f.recovered_s is not None]
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "virtual_s": float(self.until),
            "nodes": self.nodes,
            "pods_created": self.pods_created,
            "pods_scheduled": self.pods_scheduled,
            "pods_succeeded": self.pods_succeeded,
            "evictions": self.evictions,
            "unschedulable_s": round(self.unschedulable_s, 3),
            "unschedulable_pod_s": round(self.unschedulable_pod_s, 3),
            "faults": len(self.faults),
            "faults_recovered": len(recovered),
            "max_recovery_s": round(max(recovered), 3) if recovered else None,
            "invariant_checks": self.checks,
            "invariant_violations": len(self.violations),
            "api_writes": self.api_writes,
            "trace_hash": self.trace_hash,
        }
