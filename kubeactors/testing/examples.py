"""An example out-of-tree scheduler plugin, with the invariant checker that goes with it.

`NodeMaintenance` keeps new pods off nodes being serviced and away from nodes about
to be: a node labelled `example.com/maintenance=now` is filtered out, and one
labelled `example.com/maintenance=soon` scores 0 where every other node scores 100.
It implements both forms a plugin may have: per node (`filter`, `score`, which the
reference engine calls) and vectorised over the node table (`filter_all`,
`score_all`, which the default engine calls). docs/testing.md walks through it and
tests/testing/test_examples.py property-tests it.

```python
config = {"profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": "NodeMaintenance"}]}}}]}
Cluster(scheduler_config=config, scheduler_plugins={"NodeMaintenance": NodeMaintenance})
```
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..scheduler import NodeInfo, PodInfo
from ..scheduler.framework import (
    MAX_NODE_SCORE,
    CycleState,
    FilterPlugin,
    ScorePlugin,
    Snapshot,
    Status,
)
from ._state import ClusterState, Violation, placed_pods, pod_key

__all__ = ["MAINTENANCE_LABEL", "NodeMaintenance", "pods_off_maintenance_nodes"]

MAINTENANCE_LABEL = "example.com/maintenance"
"""`now`: the node takes no new pods; `soon`: it takes them only if nothing else fits."""


class NodeMaintenance(FilterPlugin, ScorePlugin):
    """Filter out nodes under maintenance; score down nodes whose maintenance is near."""

    name = "NodeMaintenance"
    reason = "node(s) were under maintenance"

    # -- per node: the reference form, and the one to write first -------------------

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if node.labels.get(MAINTENANCE_LABEL) == "now":
            return Status.unschedulable(self.reason)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return 0 if node.labels.get(MAINTENANCE_LABEL) == "soon" else MAX_NODE_SCORE

    # -- vectorised: the same answers as array operations over the node table ------

    def filter_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot
    ) -> npt.NDArray[np.bool_] | None:
        table = snapshot.cache.table
        if MAINTENANCE_LABEL not in table.labels:
            return None  # no node has the label: every node passes
        codes = table.label_column(MAINTENANCE_LABEL)[: table.size]
        passed: npt.NDArray[np.bool_] = codes != table.label_code(MAINTENANCE_LABEL, "now")
        return passed

    def score_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.int64]:
        table = snapshot.cache.table
        scores = np.full(len(rows), MAX_NODE_SCORE, np.int64)
        if MAINTENANCE_LABEL in table.labels:
            soon = table.label_column(MAINTENANCE_LABEL)[rows] == table.label_code(
                MAINTENANCE_LABEL, "soon"
            )
            scores[soon] = 0
        return scores


def pods_off_maintenance_nodes(state: ClusterState) -> list[Violation]:
    """No scheduled pod runs on a node labelled for maintenance now.

    A checker of one's own is a function like the built-in ones; it assumes, as
    they do, that node labels did not change after the pods were bound.
    """
    nodes = {node.metadata.name: node for node in state.nodes}
    violations = []
    for pod in placed_pods(state):
        node = nodes.get(pod.spec.node_name)
        if node is not None and node.metadata.labels.get(MAINTENANCE_LABEL) == "now":
            violations.append(
                Violation(
                    "pods_off_maintenance_nodes",
                    pod_key(pod),
                    f"pod {pod_key(pod)} was placed on node {node.metadata.name}, which is "
                    f"under maintenance",
                )
            )
    return violations
