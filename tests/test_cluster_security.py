"""A cluster under Node and RBAC authorisation: every component runs as its own identity,
holds just the rights upstream's default roles give it, and the cluster still works."""

from __future__ import annotations

import logging

import pytest

from kubeactors import Cluster
from kubeactors.api import (
    ApiError,
    Container,
    Deployment,
    DeploymentSpec,
    LabelSelector,
    Lease,
    Node,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    node_user,
)
from kubeactors.node import LEASE_NAMESPACE


def _deployment(replicas: int) -> Deployment:
    labels = {"app": "web"}
    return Deployment(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=DeploymentSpec(
            replicas=replicas,
            selector=LabelSelector(match_labels=labels),
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=labels),
                spec=PodSpec(containers=[Container(name="app", image="nginx")]),
            ),
        ),
    )


async def test_components_work_under_rbac_with_their_own_identities(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with Cluster(nodes=2, authorizer="rbac") as cluster:
        await cluster.client.create(_deployment(4))
        await cluster.wait_until_running(4, timeout=60)
        pods = await cluster.pods("default")
        assert len(pods) == 4
        assert {p.spec.node_name for p in pods} <= {"node-0", "node-1"}
        assert all(p.metadata.owner_references for p in pods)
        leases = await cluster.client.list(Lease, LEASE_NAMESPACE)
        assert sorted(lease.metadata.name for lease in leases.items) == ["node-0", "node-1"]
        # A kubelet may not touch another node's objects, nor anything beyond its role.
        kubelet = cluster.client.as_user(node_user("node-0"))
        other = next(p for p in pods if p.spec.node_name == "node-1")
        with pytest.raises(ApiError) as refused:
            await kubelet.delete(Pod, other.metadata.name, "default")
        assert refused.value.code == 403
        with pytest.raises(ApiError) as refused:
            await kubelet.delete(Node, "node-1")
        assert refused.value.code == 403
        with pytest.raises(ApiError) as refused:
            await kubelet.create(_deployment(1))
        assert refused.value.code == 403
    forbidden = [r.getMessage() for r in caplog.records if "forbidden" in r.getMessage()]
    assert forbidden == []


async def test_a_client_without_identity_is_unauthorized_under_rbac() -> None:
    async with Cluster(nodes=0, authorizer="rbac") as cluster:
        anonymous = type(cluster.client)(cluster.client.api)
        with pytest.raises(ApiError) as refused:
            await anonymous.list(Pod)
        assert refused.value.code == 401


def test_an_unknown_authorizer_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'abac'"):
        Cluster(authorizer="abac")  # type: ignore[arg-type]
