"""The disruption controller: a budget's status follows its pods and their controllers."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    Container,
    Deployment,
    DeploymentSpec,
    LabelSelector,
    ObjectMeta,
    PodDisruptionBudget,
    PodDisruptionBudgetSpec,
    PodSpec,
    PodTemplateSpec,
)
from kubeactors.cluster import Cluster
from kubeactors.controllers import ControllerManagerSettings, healthy_budget

SETTINGS = ControllerManagerSettings(controllers=("deployment", "replicaset", "disruption"))
WEB = LabelSelector(match_labels={"app": "web"})


def _deployment(replicas: int) -> Deployment:
    return Deployment(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=DeploymentSpec(
            replicas=replicas,
            selector=WEB,
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels={"app": "web"}),
                spec=PodSpec(containers=[Container(name="web", image="nginx")]),
            ),
        ),
    )


def _budget(**spec: object) -> PodDisruptionBudget:
    return PodDisruptionBudget(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=PodDisruptionBudgetSpec(selector=WEB, **spec),  # type: ignore[arg-type]
    )


async def _until(
    cluster: Cluster, done: Callable[[PodDisruptionBudget], bool]
) -> PodDisruptionBudget:
    for _ in range(300):
        budget = await cluster.client.get(PodDisruptionBudget, "web", "default")
        if done(budget):
            return budget
        await cluster.clock.sleep(1)
    raise AssertionError(f"the budget never got there: {budget.status}")


def _counts(budget: PodDisruptionBudget) -> tuple[int, int, int, int]:
    status = budget.status
    return (
        status.expected_pods,
        status.desired_healthy,
        status.current_healthy,
        status.disruptions_allowed,
    )


async def test_the_status_follows_ready_pods_and_the_deployment_scale() -> None:
    async with Cluster(nodes=2, clock="virtual", controllers=SETTINGS) as cluster:
        await cluster.client.create(_deployment(4))
        await cluster.client.create(_budget(max_unavailable="25%"))
        budget = await _until(cluster, lambda b: _counts(b) == (4, 3, 4, 1))
        condition = budget.status.conditions[0]
        assert (condition.type, condition.status, condition.reason) == (
            "DisruptionAllowed",
            "True",
            "SufficientPods",
        )
        assert budget.status.observed_generation == budget.metadata.generation
        # Scaled up, the expected count follows the Deployment before the pods do.
        deployment = await cluster.client.get(Deployment, "web", "default")
        spec = msgspec.structs.replace(deployment.spec, replicas=8)
        await cluster.client.update(msgspec.structs.replace(deployment, spec=spec))
        await _until(cluster, lambda b: _counts(b) == (8, 6, 8, 2))
        # A minimum as large as the set allows nothing.
        budget = await cluster.client.get(PodDisruptionBudget, "web", "default")
        tighter = msgspec.structs.replace(budget.spec, max_unavailable=None, min_available=8)
        await cluster.client.update(msgspec.structs.replace(budget, spec=tighter))
        budget = await _until(cluster, lambda b: _counts(b) == (8, 8, 8, 0))
        assert budget.status.conditions[0].reason == "InsufficientPods"


@given(
    pods=st.integers(0, 50),
    scale=st.integers(0, 50),
    value=st.integers(0, 60) | st.integers(0, 100).map(lambda p: f"{p}%"),
    maximum=st.booleans(),
)
def test_the_desired_count_is_within_the_expected(
    pods: int, scale: int, value: int | str, maximum: bool
) -> None:
    spec = {"max_unavailable": value} if maximum else {"min_available": value}
    expected, desired = healthy_budget(_budget(**spec), pods, scale)
    assert expected == (pods if isinstance(value, int) and not maximum else scale)
    assert desired >= 0
    if isinstance(value, str):
        share = int(value[:-1]) * expected
        # Percentages round up: of the unavailable when a maximum, of the available else.
        if maximum:
            assert expected - desired == min(expected, -(-share // 100))
        else:
            assert desired == -(-share // 100)
