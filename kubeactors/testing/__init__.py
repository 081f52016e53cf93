"""Testing kubeactors clusters: hypothesis strategies, invariant checkers, run histories.

```python
from hypothesis import given
from kubeactors.testing import ClusterState, check_all
from kubeactors.testing.strategies import node_lists, pods

@given(node_lists(max_size=5), pods())
def test_my_placement(nodes, pod):
    placed = my_place(nodes, pod)                  # a Pod with spec.nodeName set, or None
    state = ClusterState(nodes, [placed] if placed else [])
    assert check_all(state) == []                  # each Violation says what broke
```

On a live cluster, `ClusterState(await cluster.nodes(), await cluster.pods())`. With
`Cluster(clock="virtual", seed=N)`, `api_history(cluster.client)` lists every write
(revision, key, object hash): two runs with one seed give the same list.
`ClusterMachine` runs a whole cluster on the virtual clock under hypothesis' stateful
testing, the checkers after every step; `kubeactors.testing.examples` holds an
out-of-tree scheduler plugin to copy. docs/testing.md is the guide.
Needs hypothesis (a test dependency).
"""

from ._machine import ClusterMachine
from .history import api_history, history_digest
from .invariants import (
    CHECKERS,
    CHURN_SAFE_CHECKERS,
    Checker,
    ClusterState,
    Violation,
    bound_pods_on_existing_nodes,
    check_all,
    node_affinity_respected,
    nodes_not_overcommitted,
    pod_affinity_respected,
    pod_anti_affinity_respected,
    pod_ips_unique,
    pod_requests,
    taints_tolerated,
    tolerates,
    topology_spread_respected,
)
from .strategies import register_strategies
from .workloads import (
    CONVERGENCE_CHECKERS,
    deployments_converged,
    replica_sets_converged,
    watch_stream_violations,
)

__all__ = [
    "CHECKERS",
    "CHURN_SAFE_CHECKERS",
    "CONVERGENCE_CHECKERS",
    "Checker",
    "ClusterMachine",
    "ClusterState",
    "Violation",
    "api_history",
    "bound_pods_on_existing_nodes",
    "check_all",
    "deployments_converged",
    "history_digest",
    "node_affinity_respected",
    "nodes_not_overcommitted",
    "pod_affinity_respected",
    "pod_anti_affinity_respected",
    "pod_ips_unique",
    "pod_requests",
    "register_strategies",
    "replica_sets_converged",
    "taints_tolerated",
    "tolerates",
    "topology_spread_respected",
    "watch_stream_violations",
]
