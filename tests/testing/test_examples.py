"""The example plugin (NodeMaintenance) property-tested, and a broken plugin caught."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

import kubeactors.api
from kubeactors.api import Node, Pod, Taint
from kubeactors.cluster import Cluster
from kubeactors.node import NodeSettings
from kubeactors.scheduler import (
    Cache,
    ConfigError,
    Engine,
    Handle,
    NodeInfo,
    PodInfo,
    load_configuration,
    node_view,
    plugin_registry,
    pod_info,
)
from kubeactors.scheduler.framework import CycleState, FilterPlugin, Status
from kubeactors.testing import (
    CHURN_SAFE_CHECKERS,
    ClusterMachine,
    ClusterState,
    check_all,
    taints_tolerated,
)
from kubeactors.testing.examples import (
    MAINTENANCE_LABEL,
    NodeMaintenance,
    pods_off_maintenance_nodes,
)
from kubeactors.testing.strategies import labels, node_lists, pods

PLUGINS = {"NodeMaintenance": NodeMaintenance}
CONFIG = {
    "profiles": [
        {"plugins": {"multiPoint": {"enabled": [{"name": "NodeMaintenance", "weight": 5}]}}}
    ]
}
MAINTENANCE = st.sampled_from(({}, {MAINTENANCE_LABEL: "now"}, {MAINTENANCE_LABEL: "soon"}))


def under_maintenance(node: Node, extra: dict[str, str]) -> Node:
    meta = msgspec.structs.replace(node.metadata, labels={**node.metadata.labels, **extra})
    return msgspec.structs.replace(node, metadata=meta)


@st.composite
def maintained_nodes(draw: st.DrawFn) -> list[Node]:
    return [under_maintenance(node, draw(MAINTENANCE)) for node in draw(node_lists(max_size=6))]


def engines(nodes: list[Node], seed: int) -> list[Engine]:
    built = []
    for engine in ("vectorised", "reference"):
        cache = Cache()
        for node in nodes:
            cache.set_node(node_view(node))
        profile = load_configuration(CONFIG).build(Handle(cache), plugin_registry(PLUGINS))
        built.append(
            Engine(profile["default-scheduler"], cache, random.Random(seed), engine=engine)
        )
    return built


@settings(max_examples=25)
@given(maintained_nodes(), pods(name="p"), st.integers(0, 2**16))
def test_the_vectorised_and_per_node_forms_agree_and_never_choose_a_node_in_maintenance(
    nodes: list[Node], pod: Pod, seed: int
) -> None:
    vectorised, reference = engines(nodes, seed)
    info = pod_info(pod)
    assert vectorised.evaluate(info) == reference.evaluate(info)
    chosen = vectorised.schedule(info).node
    assert chosen == reference.schedule(info).node
    labelled = {n.metadata.name: n.metadata.labels.get(MAINTENANCE_LABEL) for n in nodes}
    assert not chosen or labelled[chosen] != "now"


@settings(max_examples=25)
@given(maintained_nodes(), pods(name="p"))
def test_nodes_due_for_maintenance_score_lowest(nodes: list[Node], pod: Pod) -> None:
    vectorised, _ = engines(nodes, 0)
    plugin = vectorised.profile.plugins["NodeMaintenance"]
    assert isinstance(plugin, NodeMaintenance)
    cache = vectorised.cache
    info = pod_info(pod)
    for node in nodes:
        score = plugin.score(CycleState(), info, cache.nodes[node.metadata.name])
        assert score == (0 if node.metadata.labels.get(MAINTENANCE_LABEL) == "soon" else 100)


def test_out_of_tree_plugins_are_registered_by_their_own_unique_name() -> None:
    assert plugin_registry(PLUGINS)["NodeMaintenance"] is NodeMaintenance
    with pytest.raises(
        ConfigError, match=r"plugins\['Maintenance'\]: .*class's name is 'NodeMaintenance'"
    ):
        plugin_registry({"Maintenance": NodeMaintenance})
    with pytest.raises(ConfigError, match="a default plugin has that name already"):
        plugin_registry(
            {
                "TaintToleration": type(
                    "TaintToleration", (FilterPlugin,), {"name": "TaintToleration"}
                )
            }
        )
    with pytest.raises(ConfigError, match="is not a Plugin subclass"):
        plugin_registry({"NodeMaintenance": dict})  # type: ignore[dict-item]
    # A profile cannot enable a plugin nobody registered.
    with pytest.raises(ConfigError, match="unknown plugin 'NodeMaintenance'"):
        load_configuration(CONFIG).build(Handle(Cache()))


async def test_a_cluster_with_the_plugin_keeps_pods_off_nodes_in_maintenance() -> None:
    async with Cluster(
        nodes=0, clock="virtual", seed=2, scheduler_config=CONFIG, scheduler_plugins=PLUGINS
    ) as cluster:
        (now,) = await cluster.add_nodes(
            1, settings=NodeSettings(labels={MAINTENANCE_LABEL: "now"})
        )
        (soon,) = await cluster.add_nodes(
            1, settings=NodeSettings(labels={MAINTENANCE_LABEL: "soon"})
        )
        (free,) = await cluster.add_nodes(1)
        # 4 cores a node, 1 core a pod: four fit on the free node, the rest go "soon".
        await cluster.create_pods(6, cpu="1", memory="64Mi")
        await cluster.wait_until_running(6)
        placed = [pod.spec.node_name for pod in await cluster.pods()]
        state = ClusterState(await cluster.nodes(), await cluster.pods())
    assert sorted(placed) == sorted([free] * 4 + [soon] * 2)
    assert now not in placed
    assert check_all(state) == []
    assert pods_off_maintenance_nodes(state) == []


@settings(max_examples=5, stateful_step_count=8, database=None)
class MaintenanceCluster(ClusterMachine):
    """The whole cluster with the plugin: its own checker joins the built-in ones."""

    checkers = (*CHURN_SAFE_CHECKERS, pods_off_maintenance_nodes)

    def cluster_options(self) -> dict[str, Any]:
        return {"scheduler_config": CONFIG, "scheduler_plugins": PLUGINS}

    def node_labels(self) -> st.SearchStrategy[dict[str, str]]:
        return st.builds(lambda own, extra: {**own, **extra}, labels(), MAINTENANCE)


TestMaintenanceCluster = MaintenanceCluster.TestCase


# -- a broken plugin, which the checkers must catch ------------------------------------


class CarelessTaintToleration(FilterPlugin):
    """Deliberately wrong: keeps pods off untolerated NoExecute taints but forgets NoSchedule."""

    name = "CarelessTaintToleration"

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        for taint in node.view.taints if node.view is not None else ():
            if taint.effect == "NoExecute" and not any(t.tolerates(taint) for t in pod.tolerations):
                return Status.unschedulable("untolerated taint", resolvable=False)
        return None


BROKEN_PLUGINS = {"CarelessTaintToleration": CarelessTaintToleration}
BROKEN_CONFIG = {
    "profiles": [
        {
            "plugins": {
                "filter": {
                    "disabled": [{"name": "TaintToleration"}],
                    "enabled": [{"name": "CarelessTaintToleration"}],
                }
            }
        }
    ]
}
DEDICATED = Taint(key="dedicated", value="db", effect="NoSchedule")


@pytest.mark.parametrize("broken", [False, True])
async def test_the_checkers_catch_a_plugin_that_ignores_no_schedule_taints(broken: bool) -> None:
    options: dict[str, Any] = (
        {"scheduler_config": BROKEN_CONFIG, "scheduler_plugins": BROKEN_PLUGINS} if broken else {}
    )
    async with Cluster(nodes=0, clock="virtual", seed=3, **options) as cluster:
        await cluster.add_nodes(1, settings=NodeSettings(taints=[DEDICATED]))
        await cluster.create_pods(3)
        await cluster.clock.sleep(10.0)
        state = ClusterState(await cluster.nodes(), await cluster.pods())
    violations = taints_tolerated(state)
    if not broken:
        assert violations == []  # the default plugin leaves the pods pending
        assert all(not pod.spec.node_name for pod in state.pods)
        return
    assert len(violations) == 3
    assert all(
        "whose taint dedicated=db:NoSchedule it does not tolerate" in v.message for v in violations
    )


class BrokenCluster(ClusterMachine):
    """The machine, with the broken plugin and every added node tainted."""

    def cluster_options(self) -> dict[str, Any]:
        return {"scheduler_config": BROKEN_CONFIG, "scheduler_plugins": BROKEN_PLUGINS}

    def node_taints(self) -> st.SearchStrategy[list[Taint]]:
        return st.just([DEDICATED])

    def pod_specs(self) -> st.SearchStrategy[Pod]:
        return pods(max_millis=500, max_bytes=2**28, constrained=False)


def test_the_machine_catches_the_broken_plugin_with_a_replayable_program() -> None:
    quick = settings(
        max_examples=40,
        stateful_step_count=10,
        database=None,
        phases=[Phase.generate],
        print_blob=False,  # CI's profile turns it on; the program is what we replay
    )
    with pytest.raises(AssertionError, match="taints_tolerated") as caught:
        run_state_machine_as_test(BrokenCluster, settings=quick)
    message = str(caught.value)
    assert "of the cluster with seed" in message
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    start = notes.index("state = BrokenCluster()")
    end = notes.index("state.teardown()", start) + len("state.teardown()")
    program = notes[start:end]
    assert "state.start(" in program
    # The printed program is Python: run again, it fails the same way.
    namespace = {**vars(kubeactors.api), "BrokenCluster": BrokenCluster}
    try:
        with pytest.raises(AssertionError, match="taints_tolerated"):
            exec(program, namespace)
    finally:
        namespace["state"].teardown()  # the failing step came before the program's own
