"""The pod (anti-)affinity and spread checkers: sound states pass, broken ones are named."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    Affinity,
    LabelSelector,
    Node,
    ObjectMeta,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodAntiAffinity,
    PodSpec,
    PodStatus,
    TopologySpreadConstraint,
)
from kubeactors.testing import (
    CHURN_SAFE_CHECKERS,
    ClusterState,
    pod_affinity_respected,
    pod_anti_affinity_respected,
    topology_spread_respected,
)
from kubeactors.testing.strategies import TOPOLOGY_KEYS, node_lists, pods

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def node(name: str, zone: str) -> Node:
    return Node(metadata=ObjectMeta(name=name, labels={HOST: name, ZONE: zone}))


NODES = [node("a1", "a"), node("a2", "a"), node("b1", "b")]


def pod(
    name: str,
    on: str,
    app: str = "web",
    *,
    apart: PodAffinityTerm | None = None,
    together: PodAffinityTerm | None = None,
    spread: TopologySpreadConstraint | None = None,
) -> Pod:
    affinity = Affinity(
        pod_affinity=PodAffinity(required_during_scheduling_ignored_during_execution=[together])
        if together
        else None,
        pod_anti_affinity=PodAntiAffinity(
            required_during_scheduling_ignored_during_execution=[apart]
        )
        if apart
        else None,
    )
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default", labels={"app": app}),
        spec=PodSpec(
            node_name=on,
            affinity=affinity,
            topology_spread_constraints=[spread] if spread else [],
        ),
        status=PodStatus(phase="Running"),
    )


def term(app: str, key: str = ZONE) -> PodAffinityTerm:
    return PodAffinityTerm(
        topology_key=key, label_selector=LabelSelector(match_labels={"app": app})
    )


def test_anti_affinity_keeps_pods_out_of_each_others_zone() -> None:
    apart = term("web")
    sound = [pod("w1", "a1", apart=apart), pod("w2", "b1", apart=apart)]
    assert pod_anti_affinity_respected(ClusterState(NODES, sound)) == []
    broken = [pod("w1", "a1", apart=apart), pod("w2", "a2", apart=apart)]
    violations = pod_anti_affinity_respected(ClusterState(NODES, broken))
    assert [v.subject for v in violations] == ["default/w1", "default/w2"]
    assert "shares topology.kubernetes.io/zone=a with pod default/w2" in violations[0].message
    # Another namespace is out of the term's reach unless it names it.
    elsewhere = msgspec.structs.replace(
        broken[1], metadata=msgspec.structs.replace(broken[1].metadata, namespace="other")
    )
    assert pod_anti_affinity_respected(ClusterState(NODES, [broken[0], elsewhere])) == []


def test_affinity_needs_a_matching_pod_in_the_domain_unless_the_pod_is_its_own_match() -> None:
    beside_db = term("db")
    sound = [pod("db", "a1", app="db"), pod("web", "a2", together=beside_db)]
    assert pod_affinity_respected(ClusterState(NODES, sound)) == []
    broken = [pod("db", "b1", app="db"), pod("web", "a2", together=beside_db)]
    (violation,) = pod_affinity_respected(ClusterState(NODES, broken))
    assert violation.subject == "default/web"
    assert "no pod matching its required affinity" in violation.message
    first_of_its_kind = [pod("web", "a2", together=term("web"))]
    assert pod_affinity_respected(ClusterState(NODES, first_of_its_kind)) == []


def test_spread_counts_every_eligible_domain_and_min_domains() -> None:
    spread = TopologySpreadConstraint(
        max_skew=1,
        topology_key=HOST,
        when_unsatisfiable="DoNotSchedule",
        label_selector=LabelSelector(match_labels={"app": "web"}),
    )
    sound = [pod("w1", "a1", spread=spread), pod("w2", "b1", spread=spread)]
    assert topology_spread_respected(ClusterState(NODES, sound)) == []
    piled = [pod("w1", "a1", spread=spread), pod("w2", "a1", spread=spread)]
    (violation,) = topology_spread_respected(ClusterState(NODES, piled))
    assert "{'a1': 2, 'a2': 0, 'b1': 0}" in violation.message
    assert "skew 2 > maxSkew 1" in violation.message
    # Fewer domains than minDomains: the lowest count is taken as 0.
    by_zone = msgspec.structs.replace(spread, topology_key=ZONE, max_skew=1, min_domains=3)
    two_zones = [pod("w1", "a1", spread=by_zone), pod("w2", "a2", spread=by_zone)]
    (violation,) = topology_spread_respected(ClusterState(NODES, two_zones))
    assert "skew 2" in violation.message
    # A pod of the group that does not carry the constraint: not a placement the
    # constraint governed, so the group is not judged.
    mixed = [*piled, pod("w3", "a1")]
    assert topology_spread_respected(ClusterState(NODES, mixed)) == []
    ignored = msgspec.structs.replace(spread, when_unsatisfiable="ScheduleAnyway")
    soft = [pod("w1", "a1", spread=ignored), pod("w2", "a1", spread=ignored)]
    assert topology_spread_respected(ClusterState(NODES, soft)) == []


@given(
    node_lists(min_size=2, max_size=4),
    pods(name="template", constrained=False),
    st.sampled_from(TOPOLOGY_KEYS),
    st.integers(1, 3),
)
def test_piling_a_spread_group_onto_one_node_breaks_its_spread(
    nodes: list[Node], template: Pod, key: str, max_skew: int
) -> None:
    spread = TopologySpreadConstraint(
        max_skew=max_skew,
        topology_key=key,
        when_unsatisfiable="DoNotSchedule",
        label_selector=LabelSelector(match_labels={"app": "piled"}),
    )
    group = [
        msgspec.structs.replace(
            template,
            metadata=ObjectMeta(name=f"p{i}", namespace="default", labels={"app": "piled"}),
            spec=msgspec.structs.replace(
                template.spec, node_name="node-0", topology_spread_constraints=[spread]
            ),
        )
        for i in range(max_skew + 1)
    ]
    domains = {n.metadata.labels[key] for n in nodes}
    violations = topology_spread_respected(ClusterState(nodes, group))
    assert len(violations) == (1 if len(domains) > 1 else 0)
    assert topology_spread_respected(ClusterState(nodes, group[:max_skew])) == []


def test_deleting_pods_may_break_affinity_and_spread_but_nothing_churn_safe() -> None:
    beside_db = term("db")
    before = [pod("db", "a1", app="db"), pod("web", "a2", together=beside_db)]
    after = before[1:]
    assert pod_affinity_respected(ClusterState(NODES, before)) == []
    assert pod_affinity_respected(ClusterState(NODES, after)) != []
    assert pod_affinity_respected not in CHURN_SAFE_CHECKERS
    assert topology_spread_respected not in CHURN_SAFE_CHECKERS
    assert pod_anti_affinity_respected in CHURN_SAFE_CHECKERS
