import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.scheduler import NodeTable
from kubeactors.scheduler._podinfo import HostPort, Taint

GiB = 2**30


def _amounts(cpu: int, memory: int, pods: int) -> dict[str, int]:
    return {"cpu": cpu, "memory": memory, "pods": pods}


@given(
    st.lists(
        st.tuples(st.integers(0, 8000), st.integers(0, 4), st.sampled_from(["a", "b", "c"])),
        min_size=1,
        max_size=200,
    ),
    st.lists(st.tuples(st.integers(0, 199), st.integers(0, 500)), max_size=100),
)
def test_columns_follow_nodes_and_pods_through_growth(
    nodes: list[tuple[int, int, str]], pods: list[tuple[int, int]]
) -> None:
    table = NodeTable(capacity=1)
    for index, (cpu, pods_allowed, zone) in enumerate(nodes):
        table.set_node(f"n{index}", _amounts(cpu, GiB, pods_allowed), labels={"zone": zone})
    requested = [0] * len(nodes)
    for index, cpu in pods:
        if index < len(nodes):
            table.add_pod(index, {"cpu": cpu, "pods": 1}, (cpu, 0))
            requested[index] += cpu
    n = table.size
    assert n == len(nodes) == len(table)
    expected_free = [cpu - requested[i] for i, (cpu, _, _) in enumerate(nodes)]
    assert table.free["cpu"][:n].tolist() == expected_free
    zones = [zone for _, _, zone in nodes]
    totals = table.domain_totals("zone", table.requested["cpu"])
    for row in range(n):
        same = sum(requested[i] for i in range(n) if zones[i] == zones[row])
        assert totals[row] == same


def test_removed_rows_are_reused_once_empty() -> None:
    table = NodeTable(capacity=1)
    table.set_node("a", _amounts(1000, GiB, 10))
    row = table.row("a")
    table.add_pod(row, {"cpu": 100, "pods": 1}, (100, 0))
    table.remove_node("a")
    assert "a" not in table
    table.set_node("b", _amounts(1000, GiB, 10))
    assert table.row("b") != row  # "a" still has a pod counted on it
    table.remove_pod(row, {"cpu": 100, "pods": 1}, (100, 0))
    assert table.row("c") == row
    assert table.requested["cpu"][row] == 0


def test_taints_ports_images_and_extended_resources_have_columns() -> None:
    table = NodeTable()
    taint = Taint("dedicated", "gpu", "NoSchedule")
    table.set_node(
        "gpu",
        {**_amounts(1000, GiB, 10), "nvidia.com/gpu": 4},
        taints=[taint],
        images={"app:1": 500},
    )
    table.set_node("plain", _amounts(1000, GiB, 10))
    port = HostPort("TCP", "0.0.0.0", 8080)
    table.add_pod(1, {"pods": 1}, (0, 0), [port])
    assert table.taints[taint][:2].tolist() == [True, False]
    assert table.alloc["nvidia.com/gpu"][:2].tolist() == [4, 0]
    assert table.images["app:1"][:2].tolist() == [500, 0]
    assert table.ports[port][:2].tolist() == [0, 1]
    # Updating a node drops what it no longer has.
    table.set_node("gpu", _amounts(1000, GiB, 10))
    assert not table.taints[taint][0]
    assert table.alloc["nvidia.com/gpu"][0] == 0
    assert np.array_equal(table.present_rows(), [0, 1])
