"""Testing kubeactors clusters: hypothesis strategies, invariant checkers, run histories.

Needs hypothesis (a test dependency) for `kubeactors.testing.strategies`.
"""

from .history import api_history, history_digest
from .invariants import (
    CHECKERS,
    ClusterState,
    Violation,
    bound_pods_on_existing_nodes,
    check_all,
    node_affinity_respected,
    nodes_not_overcommitted,
    pod_ips_unique,
    pod_requests,
    taints_tolerated,
    tolerates,
)
from .strategies import register_strategies

__all__ = [
    "CHECKERS",
    "ClusterState",
    "Violation",
    "api_history",
    "bound_pods_on_existing_nodes",
    "check_all",
    "history_digest",
    "node_affinity_respected",
    "nodes_not_overcommitted",
    "pod_ips_unique",
    "pod_requests",
    "register_strategies",
    "taints_tolerated",
    "tolerates",
]


def _hypothesis_setup_hook() -> None:
    """Hypothesis' plugin entry point (`hypothesis` group in the package metadata)."""
    register_strategies()
