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
