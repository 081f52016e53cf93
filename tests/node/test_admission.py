from pathlib import Path
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    Affinity,
    Container,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    ResourceRequirements,
    Resources,
    Taint,
    Toleration,
)
from kubeactors.node import NodeShape, admit, effective_requests, tolerates

from ..api.harness import running_api, wait_for
from ._nodes import FAST, Nodes, bound_pod, change_node, wait_for_pod

ROOM = Resources(4000, 8 << 30, 110)
NONE_USED = Resources(0, 0, 0)


def _asking(cpu: str = "100m", memory: str = "64Mi", name: str = "p", **spec: Any) -> Pod:
    requests = {"cpu": cpu, "memory": memory}
    container = Container(name="app", image="x", resources=ResourceRequirements(requests=requests))
    return bound_pod(name, containers=[container], **spec)


def test_resources_must_fit_what_is_left() -> None:
    pod = _asking(cpu="1")
    assert admit(pod, node="n", labels={}, taints=[], allocatable=ROOM, used=NONE_USED) is None
    used = Resources(3500, 0, 3)
    rejection = admit(pod, node="n", labels={}, taints=[], allocatable=ROOM, used=used)
    assert rejection is not None
    assert rejection.reason == "OutOfcpu"
    assert "requested: 1000, used: 3500, capacity: 4000" in rejection.message
    full = Resources(0, 0, 110)
    rejection = admit(pod, node="n", labels={}, taints=[], allocatable=ROOM, used=full)
    assert rejection is not None
    assert rejection.reason == "OutOfpods"


def test_init_containers_count_by_the_largest() -> None:
    big_init = Container(
        name="init", image="x", resources=ResourceRequirements(requests={"cpu": "3"})
    )
    pod = bound_pod(
        "p",
        containers=[
            Container(name="a", image="x", resources=ResourceRequirements(requests={"cpu": "1"})),
            Container(name="b", image="x", resources=ResourceRequirements(requests={"cpu": "1"})),
        ],
        init=[big_init],
    )
    assert effective_requests(pod).cpu_millis == 3000


def test_node_selector_and_required_affinity() -> None:
    pod = _asking(node_selector={"disk": "ssd"})
    rejection = admit(
        pod, node="n", labels={"disk": "hdd"}, taints=[], allocatable=ROOM, used=NONE_USED
    )
    assert rejection is not None
    assert rejection.reason == "NodeAffinity"
    term = NodeSelectorTerm(
        match_expressions=[NodeSelectorRequirement(key="zone", operator="In", values=["a", "b"])]
    )
    affinity = Affinity(
        node_affinity=NodeAffinity(
            required_during_scheduling_ignored_during_execution=NodeSelector(
                node_selector_terms=[term]
            )
        )
    )
    pod = _asking(affinity=affinity)
    assert (
        admit(pod, node="n", labels={"zone": "a"}, taints=[], allocatable=ROOM, used=NONE_USED)
        is None
    )
    assert (
        admit(pod, node="n", labels={"zone": "c"}, taints=[], allocatable=ROOM, used=NONE_USED)
        is not None
    )


def test_only_noexecute_taints_must_be_tolerated_on_the_node() -> None:
    no_schedule = Taint(key="k", value="v", effect="NoSchedule")
    no_execute = Taint(key="k", value="v", effect="NoExecute")
    pod = _asking()
    assert (
        admit(pod, node="n", labels={}, taints=[no_schedule], allocatable=ROOM, used=NONE_USED)
        is None
    )
    rejection = admit(
        pod, node="n", labels={}, taints=[no_execute], allocatable=ROOM, used=NONE_USED
    )
    assert rejection is not None
    assert rejection.reason == "TaintToleration"
    tolerant = _asking(tolerations=[Toleration(key="k", operator="Exists")])
    assert (
        admit(tolerant, node="n", labels={}, taints=[no_execute], allocatable=ROOM, used=NONE_USED)
        is None
    )


@given(
    key=st.sampled_from(["", "a", "b"]),
    operator=st.sampled_from(["", "Equal", "Exists"]),
    value=st.sampled_from(["", "x", "y"]),
    effect=st.sampled_from(["", "NoSchedule", "NoExecute"]),
)
def test_an_empty_key_with_exists_tolerates_everything(
    key: str, operator: str, value: str, effect: str
) -> None:
    taint = Taint(key="a", value="x", effect="NoExecute")
    everything = Toleration(operator="Exists")
    assert tolerates(everything, taint)
    toleration = Toleration(key=key, operator=operator, value=value, effect=effect)  # type: ignore[arg-type]
    if tolerates(toleration, taint):
        assert toleration.effect in ("", taint.effect)
        assert toleration.key in ("", taint.key)


async def test_the_kubelet_rejects_what_does_not_fit_with_upstream_reasons(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0, shape=NodeShape(cpu="1", memory="1Gi"))
        await h.client.create(_asking(cpu="2", name="big"))
        rejected = await wait_for_pod(h, "big", lambda p: p.status.phase == "Failed")
        assert rejected.status.reason == "OutOfcpu"
        assert rejected.status.message.startswith("Node didn't have enough resource: cpu")
        await h.client.create(bound_pod("picky", node_selector={"disk": "ssd"}))
        picky = await wait_for_pod(h, "picky", lambda p: p.status.phase == "Failed")
        assert picky.status.reason == "NodeAffinity"
        await h.client.create(bound_pod("fine"))
        await wait_for_pod(h, "fine", lambda p: p.status.phase == "Running")


async def test_a_noexecute_taint_evicts_pods_that_do_not_tolerate_it(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h, FAST).start(0)
        await h.client.create(bound_pod("plain"))
        tolerant = bound_pod(
            "tolerant", tolerations=[Toleration(key="maintenance", operator="Exists")]
        )
        await h.client.create(tolerant)
        await wait_for_pod(h, "plain", lambda p: p.status.phase == "Running")
        await wait_for_pod(h, "tolerant", lambda p: p.status.phase == "Running")
        taint = Taint(key="maintenance", effect="NoExecute")
        await change_node(
            h,
            "node-0",
            lambda node: msgspec.structs.replace(
                node, spec=msgspec.structs.replace(node.spec, taints=[taint])
            ),
        )
        pods = await wait_for(
            h.client, Pod, lambda pods: [p.metadata.name for p in pods] == ["tolerant"]
        )
        assert pods[0].status.phase == "Running"
