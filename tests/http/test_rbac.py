"""Callers over HTTP are who their token says: the API server's RBAC decides what they may do."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeactors.api import (
    ObjectMeta,
    Pod,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
)

from .harness import KUBECTL, pod, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

USERS = {"alice-token-0123456789": "alice"}


async def test_a_token_without_rights_is_forbidden_until_a_role_allows(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        await api.client.create(pod("web"))
        alice = "alice-token-0123456789"
        status, _, err = await api.kubectl("get", "pods", token=alice)
        assert status == 1
        assert err.strip() == (
            'Error from server (Forbidden): pods is forbidden: User "alice" cannot list '
            'resource "pods" in API group "" in the namespace "default"'
        )
        await api.client.create(
            Role(
                metadata=ObjectMeta(name="pod-reader", namespace="default"),
                rules=[PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list"])],
            )
        )
        await api.client.create(
            RoleBinding(
                metadata=ObjectMeta(name="alice-reads-pods", namespace="default"),
                subjects=[Subject(kind="User", name="alice")],
                role_ref=RoleRef(
                    api_group="rbac.authorization.k8s.io", kind="Role", name="pod-reader"
                ),
            )
        )
        status, out, err = await api.kubectl("get", "pods", "-o", "name", token=alice)
        assert (status, out.split()) == (0, ["pod/web"]), err
        status, _, err = await api.kubectl("delete", "pod", "web", token=alice)
        assert status == 1
        assert 'User "alice" cannot delete resource "pods"' in err
        assert [p.metadata.name for p in (await api.client.list(Pod)).items] == ["web"]
        # The admin token of the kubeconfig may do anything.
        status, out, err = await api.kubectl("delete", "pod", "web")
        assert (status, out.strip()) == (0, 'pod "web" deleted'), err


async def test_no_token_or_an_unknown_one_is_unauthorized(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        status, _, err = await api.kubectl("get", "pods", token="not-a-known-token")
        assert status == 1
        assert err.strip().endswith(
            "error: You must be logged in to the server "
            "(the server has asked for the client to provide credentials)"
        )
