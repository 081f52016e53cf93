import random

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import Resources
from kubeactors.scheduler import NodeTable

GiB = 2**30

node_sizes = st.lists(
    st.tuples(st.integers(0, 8000), st.integers(0, 32 * GiB), st.integers(0, 20)),
    min_size=0,
    max_size=12,
)
pod_sizes = st.lists(
    st.tuples(st.integers(0, 3000), st.integers(0, 8 * GiB)), min_size=1, max_size=60
)


def _reference_scores(
    nodes: list[tuple[int, int, int]], used: list[list[int]], request: Resources
) -> dict[int, int]:
    """Feasible rows and their LeastAllocated scores, one node at a time in plain Python."""
    scores: dict[int, int] = {}
    for row, (cpu, memory, pods) in enumerate(nodes):
        used_cpu, used_memory, used_pods = used[row]
        if (
            cpu - used_cpu >= request.cpu_millis
            and memory - used_memory >= request.memory_bytes
            and pods - used_pods >= 1
        ):
            shares = []
            for allocatable, requested in (
                (cpu, used_cpu + request.cpu_millis),
                (memory, used_memory + request.memory_bytes),
            ):
                shares.append((allocatable - requested) * 100 // allocatable if allocatable else 0)
            scores[row] = sum(shares) // 2
    return scores


@given(node_sizes, pod_sizes, st.integers(0, 2**32))
def test_placements_never_overcommit_and_match_the_reference(
    nodes: list[tuple[int, int, int]], pods: list[tuple[int, int]], seed: int
) -> None:
    table = NodeTable(capacity=2)
    for index, (cpu, memory, count) in enumerate(nodes):
        table.set_node(f"n{index}", Resources(cpu, memory, count))
    used = [[0, 0, 0] for _ in nodes]
    rng = random.Random(seed)
    for cpu, memory in pods:
        request = Resources(cpu, memory, 1)
        expected = _reference_scores(nodes, used, request)
        row = table.pick(request, rng)
        if not expected:
            assert row is None
            continue
        assert row is not None
        assert expected[row] == max(expected.values())
        table.add_pod(row, request)
        used[row] = [used[row][0] + cpu, used[row][1] + memory, used[row][2] + 1]
    for row, (cpu, memory, count) in enumerate(nodes):
        assert used[row][0] <= cpu
        assert used[row][1] <= memory
        assert used[row][2] <= count
        assert table.requested_cpu[row] == used[row][0]


def test_unschedulable_and_unknown_nodes_take_nothing() -> None:
    table = NodeTable()
    table.set_node("cordoned", Resources(4000, GiB, 10), schedulable=False)
    heard_of = table.row("heard-of")  # known only through a pod bound to it
    table.add_pod(heard_of, Resources(100, 0, 1))
    assert "heard-of" not in table
    assert table.pick(Resources(1, 1, 1), random.Random(0)) is None
    table.set_node("open", Resources(4000, GiB, 10))
    assert table.names[table.pick(Resources(1, 1, 1), random.Random(0)) or 0] == "open"


def test_removed_rows_are_reused_once_empty() -> None:
    table = NodeTable(capacity=1)
    assert table.set_node("a", Resources(1000, GiB, 10))
    row = table.row("a")
    table.add_pod(row, Resources(100, 0, 1))
    table.remove_node("a")
    table.set_node("b", Resources(1000, GiB, 10))
    assert table.row("b") != row  # "a" still has a pod counted on it
    table.remove_pod(row, Resources(100, 0, 1))
    assert table.row("c") == row


def test_set_node_says_whether_it_can_make_room() -> None:
    table = NodeTable()
    assert table.set_node("a", Resources(1000, GiB, 10))  # a new node
    assert not table.set_node("a", Resources(1000, GiB, 10))  # a heartbeat
    assert not table.set_node("a", Resources(500, GiB, 10))  # smaller
    assert table.set_node("a", Resources(500, 2 * GiB, 10))  # more memory
    assert not table.set_node("a", Resources(500, 2 * GiB, 10), schedulable=False)  # cordoned
    assert table.set_node("a", Resources(500, 2 * GiB, 10))  # uncordoned
