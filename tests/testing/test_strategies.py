"""The strategies make valid objects: quantities within bounds, wire round trips, from_type."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import Node, Pod, Taint, Toleration, parse_cpu, parse_memory, parse_quantity
from kubeactors.testing import register_strategies
from kubeactors.testing.strategies import (
    LABEL_KEYS,
    cpu_quantities,
    memory_quantities,
    node_lists,
    nodes,
    pods,
    quantities,
    resource_lists,
)


@given(st.data(), st.integers(0, 10_000), st.integers(0, 10_000))
def test_cpu_quantities_stay_within_their_bounds(data: st.DataObject, a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    text = data.draw(cpu_quantities(min_millis=low, max_millis=high))
    assert low <= parse_cpu(text) <= high


@given(st.data(), st.integers(0, 2**35), st.integers(0, 2**35))
def test_memory_quantities_stay_within_their_bounds(data: st.DataObject, a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    text = data.draw(memory_quantities(min_bytes=low, max_bytes=high))
    assert low <= parse_memory(text) <= high
    assert parse_quantity(text) == parse_memory(text)  # whole bytes, no rounding


@given(quantities())
def test_every_quantity_parses(text: str) -> None:
    assert parse_quantity(text) >= 0


@given(resource_lists(required=True, pods=True))
def test_required_resource_lists_have_cpu_memory_and_pods(resources: dict[str, str]) -> None:
    assert set(resources) == {"cpu", "memory", "pods"}


@given(nodes())
def test_nodes_round_trip_the_wire_format(node: Node) -> None:
    assert msgspec.json.decode(msgspec.json.encode(node), type=Node) == node
    assert parse_cpu(node.status.allocatable["cpu"]) >= 1000
    assert node.metadata.labels["kubernetes.io/hostname"] == node.metadata.name


@given(pods())
def test_pods_round_trip_the_wire_format(pod: Pod) -> None:
    assert msgspec.json.decode(msgspec.json.encode(pod), type=Pod) == pod
    assert not pod.spec.node_name
    names = [container.name for container in pod.spec.containers]
    assert len(names) == len(set(names)) >= 1
    assert set(pod.spec.node_selector) <= set(LABEL_KEYS)


@given(node_lists(min_size=2, max_size=5))
def test_node_lists_have_distinct_names(node_list: list[Node]) -> None:
    assert 2 <= len(node_list) <= 5
    assert len({node.metadata.name for node in node_list}) == len(node_list)


def test_registered_strategies_serve_from_type() -> None:
    register_strategies()
    drawn: list[object] = []

    @given(st.from_type(Pod), st.from_type(Node), st.from_type(Taint), st.from_type(Toleration))
    def draw_each(pod: Pod, node: Node, taint: Taint, toleration: Toleration) -> None:
        drawn.append((pod, node, taint, toleration))
        assert pod.spec.containers
        assert node.status.capacity

    draw_each()
    assert drawn
