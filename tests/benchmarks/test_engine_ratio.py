"""The engine comparison places the same pods on the same nodes with both engines."""

from benchmarks._engine_ratio import compare_engines
from kubeactors.api import (
    Container,
    Node,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    ResourceRequirements,
)


def _node(index: int) -> Node:
    return Node(
        metadata=ObjectMeta(name=f"node-{index}", labels={"zone": f"z{index % 3}"}),
        status=NodeStatus(allocatable={"cpu": "4", "memory": "32Gi", "pods": "110"}),
    )


def _pod(namespace: str, index: int, node: str = "") -> Pod:
    requests = {"cpu": f"{100 + 100 * (index // 40 % 3)}m", "memory": "500Mi"}
    return Pod(
        metadata=ObjectMeta(name=f"pod-{index}", namespace=namespace),
        spec=PodSpec(
            containers=[Container(name="pause", resources=ResourceRequirements(requests=requests))],
            node_name=node,
        ),
    )


def test_both_engines_place_the_measured_pods_alike_and_are_timed() -> None:
    nodes = [_node(index) for index in range(150)]
    before = [_pod("init", index, f"node-{index % 7}") for index in range(30)]
    # Three templates in turn, 40 pods each: runs, and a run cut by the batch boundary.
    measured = [_pod("measured", index) for index in range(300)]
    figures = compare_engines(nodes, before, measured)
    assert figures["attempts"] == 300
    assert figures["different_choices"] == 0
    assert figures["vectorised_cpu_us_per_attempt"] > 0
    assert figures["reference_cpu_us_per_attempt"] > 0
    assert figures["attempt_ratio_vs_reference"] > 0
