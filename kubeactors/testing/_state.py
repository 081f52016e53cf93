"""What every checker shares: the state it looks at, the violation it reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import msgspec

from ..api import Deployment, Node, Pod, ReplicaSet

__all__ = ["TERMINAL", "Checker", "ClusterState", "Violation", "placed_pods", "pod_key"]

TERMINAL = ("Succeeded", "Failed")


class ClusterState(msgspec.Struct, frozen=True):
    """What the checkers look at: every node and pod, and the time they were read.

    `now` (wall time) is needed only to allow for NoExecute eviction in progress;
    `replica_sets` and `deployments` only by the convergence checkers.
    """

    nodes: Sequence[Node]
    pods: Sequence[Pod]
    now: datetime | None = None
    replica_sets: Sequence[ReplicaSet] = ()
    deployments: Sequence[Deployment] = ()


class Violation(msgspec.Struct, frozen=True):
    """One broken invariant: which one, about what, and a sentence saying how."""

    invariant: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.message}"


Checker = Callable[[ClusterState], list[Violation]]
"""A checker: the violations of one invariant in a state (empty when it holds)."""


def pod_key(pod: Pod) -> str:
    return f"{pod.metadata.namespace or 'default'}/{pod.metadata.name}"


def placed_pods(state: ClusterState) -> Iterable[Pod]:
    """Pods bound to a node and not finished: the ones that hold resources."""
    return (pod for pod in state.pods if pod.spec.node_name and pod.status.phase not in TERMINAL)
