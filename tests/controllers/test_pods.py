from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    LabelSelector,
    LabelSelectorRequirement,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
)
from kubeactors.controllers import deletion_order, is_available, selector_matches

from .objects import running

_pods = st.builds(
    lambda i, node, phase, ready: (
        running(Pod(metadata=ObjectMeta(name=f"p{i}")), node=node, ready=ready)
        if phase == "Running"
        else Pod(
            metadata=ObjectMeta(name=f"p{i}"),
            spec=PodSpec(node_name=node),
            status=PodStatus(phase=phase),
        )
    ),
    st.integers(0, 999),
    st.sampled_from(["", "n1", "n2"]),
    st.sampled_from(["Pending", "Running", "Unknown"]),
    st.booleans(),
)


def _rank(pod: Pod) -> tuple[int, int, int]:
    phase = {"Pending": 0, "Unknown": 1, "Running": 2}[pod.status.phase]
    ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
    return (1 if pod.spec.node_name else 0, phase, int(ready))


@given(st.lists(_pods, max_size=20))
def test_deletion_order_puts_unscheduled_pending_and_unready_first(pods: list[Pod]) -> None:
    ordered = deletion_order(pods)
    assert sorted(map(_rank, pods)) == list(map(_rank, ordered))
    assert sorted(p.metadata.name for p in ordered) == sorted(p.metadata.name for p in pods)


def test_deletion_order_prefers_crowded_nodes_then_newer_pods() -> None:
    a = running(
        Pod(metadata=ObjectMeta(name="a", creation_timestamp="2026-01-01T00:00:00Z")),
        node="crowded",
    )
    b = running(
        Pod(metadata=ObjectMeta(name="b", creation_timestamp="2026-01-01T00:00:00Z")), node="quiet"
    )
    old = running(
        Pod(metadata=ObjectMeta(name="old", creation_timestamp="2025-01-01T00:00:00Z")), node="x"
    )
    new = running(
        Pod(metadata=ObjectMeta(name="new", creation_timestamp="2026-06-01T00:00:00Z")), node="x"
    )
    assert [p.metadata.name for p in deletion_order([b, a], {"crowded": 3, "quiet": 1})] == [
        "a",
        "b",
    ]
    assert [p.metadata.name for p in deletion_order([old, new])] == ["new", "old"]


def test_available_after_min_ready_seconds() -> None:
    pod = running(Pod(), since="2026-01-01T00:00:00Z")
    assert is_available(pod, 10, datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC))
    assert not is_available(pod, 10, datetime(2026, 1, 1, 0, 0, 9, tzinfo=UTC))
    assert not is_available(running(Pod(), ready=False), 0, datetime(2026, 1, 1, tzinfo=UTC))


@given(st.dictionaries(st.sampled_from("abc"), st.sampled_from("xyz"), max_size=3))
def test_selector_expressions(labels: dict[str, str]) -> None:
    selector = LabelSelector(
        match_labels={"a": "x"},
        match_expressions=[
            LabelSelectorRequirement(key="b", operator="In", values=["y", "z"]),
            LabelSelectorRequirement(key="c", operator="DoesNotExist"),
        ],
    )
    expected = labels.get("a") == "x" and labels.get("b") in ("y", "z") and "c" not in labels
    assert selector_matches(selector, labels) == expected
