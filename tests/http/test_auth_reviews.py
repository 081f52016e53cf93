"""`kubectl auth can-i` and `kubectl auth whoami`, answered by the API server's RBAC."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from kubeactors.api import (
    ClusterRole,
    ClusterRoleBinding,
    ObjectMeta,
    PolicyRule,
    ResourceAttributes,
    Role,
    RoleBinding,
    RoleRef,
    SelfSubjectAccessReview,
    SelfSubjectAccessReviewSpec,
    Subject,
    SubjectAccessReview,
    SubjectAccessReviewSpec,
)

from .harness import KUBECTL, Served, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

ALICE = "alice-token-0123456789"
USERS = {ALICE: "alice"}


async def _let_alice_read_pods(api: Served) -> None:
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
            role_ref=RoleRef(kind="Role", name="pod-reader"),
        )
    )


async def test_can_i_answers_yes_and_no_by_rbac(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        await _let_alice_read_pods(api)
        # The admin token of the kubeconfig is in system:masters.
        status, out, err = await api.kubectl("auth", "can-i", "delete", "nodes")
        assert (status, out) == (0, "yes\n")
        assert "Warning: resource 'nodes' is not namespace scoped" in err
        assert await api.kubectl("auth", "can-i", "create", "deployments.apps", "-n", "x") == (
            0,
            "yes\n",
            "",
        )
        assert await api.kubectl("auth", "can-i", "list", "pods", token=ALICE) == (0, "yes\n", "")
        status, out, _ = await api.kubectl("auth", "can-i", "delete", "pods", token=ALICE)
        assert (status, out) == (1, "no\n")
        # The Role is in "default" only.
        status, out, _ = await api.kubectl(
            "auth", "can-i", "list", "pods", "-n", "kube-system", token=ALICE
        )
        assert (status, out) == (1, "no\n")
        # Every authenticated user may read discovery, and no one else's paths.
        assert await api.kubectl("auth", "can-i", "get", "/api", token=ALICE) == (0, "yes\n", "")
        status, out, _ = await api.kubectl("auth", "can-i", "get", "/metrics", token=ALICE)
        assert (status, out) == (1, "no\n")


async def test_can_i_list_shows_the_rules_of_the_namespace(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        await _let_alice_read_pods(api)
        status, out, err = await api.kubectl("auth", "can-i", "--list", token=ALICE)
        assert status == 0, err
        rows = {
            line.split()[0]: line.split()[1:] for line in out.splitlines()[1:] if line[0] != " "
        }
        assert rows["pods"] == ["[]", "[]", "[get", "list]"]
        assert rows["selfsubjectaccessreviews.authorization.k8s.io"] == ["[]", "[]", "[create]"]
        assert "deployments.apps" not in rows
        status, out, err = await api.kubectl(
            "auth", "can-i", "--list", "-n", "kube-system", token=ALICE
        )
        assert status == 0, err
        assert "pods " not in out


async def test_whoami_names_the_user_and_groups_of_the_token(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        status, out, err = await api.kubectl("auth", "whoami", "-o", "json", token=ALICE)
        assert status == 0, err
        review = json.loads(out)
        assert review["kind"] == "SelfSubjectReview"
        assert review["status"]["userInfo"] == {
            "username": "alice",
            "uid": "alice",
            "groups": ["system:authenticated"],
        }
        status, out, err = await api.kubectl("auth", "whoami")
        assert status == 0, err
        assert out.split() == [
            "ATTRIBUTE",
            "VALUE",
            "Username",
            "admin",
            "UID",
            "admin",
            "Groups",
            "[system:masters",
            "system:authenticated]",
        ]


async def test_forbidden_status_names_user_verb_resource_and_namespace(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        headers = {"Authorization": f"Bearer {ALICE}"}
        async with httpx.AsyncClient(base_url=api.server.url, verify=False) as http:
            response = await http.delete("/api/v1/namespaces/team/pods/web", headers=headers)
            nodes = await http.get("/api/v1/nodes", headers=headers)
        assert response.status_code == 403
        assert response.json() == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": 'pods "web" is forbidden: User "alice" cannot delete resource "pods" '
            'in API group "" in the namespace "team"',
            "reason": "Forbidden",
            "details": {"name": "web", "kind": "pods"},
            "code": 403,
        }
        assert nodes.json()["message"] == (
            'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" '
            "at the cluster scope"
        )


async def test_subject_access_review_asks_about_someone_else(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        await _let_alice_read_pods(api)

        def about(user: str, verb: str, namespace: str = "default") -> SubjectAccessReview:
            attributes = ResourceAttributes(namespace=namespace, verb=verb, resource="pods")
            spec = SubjectAccessReviewSpec(resource_attributes=attributes, user=user)
            return SubjectAccessReview(spec=spec)

        answers = [
            (await api.client.create(about("alice", verb, namespace))).status
            for verb, namespace in [("get", "default"), ("delete", "default"), ("get", "x")]
        ]
        assert [a.allowed if a else None for a in answers] == [True, False, False]
        # Asking about others needs a grant of its own; asking about oneself does not.
        headers = {"Authorization": f"Bearer {ALICE}"}
        async with httpx.AsyncClient(base_url=api.server.url, verify=False) as http:
            refused = await http.post(
                "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                headers=headers,
                json={
                    "apiVersion": "authorization.k8s.io/v1",
                    "kind": "SubjectAccessReview",
                    "spec": {"user": "bob", "resourceAttributes": {"verb": "get"}},
                },
            )
            own = await http.post(
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                headers=headers,
                json={
                    "apiVersion": "authorization.k8s.io/v1",
                    "kind": "SelfSubjectAccessReview",
                    "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}},
                },
            )
            listed = await http.get(
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", headers=headers
            )
        assert refused.status_code == 403
        assert (own.status_code, own.json()["status"]) == (201, {"allowed": False})
        assert listed.status_code == 405
        review = SelfSubjectAccessReview(
            spec=SelfSubjectAccessReviewSpec(
                resource_attributes=ResourceAttributes(verb="get", resource="pods")
            )
        )
        answered = await api.client.create(review)
        assert answered.status is not None
        assert answered.status.allowed


async def test_paths_without_a_resource_are_authorised_by_rbac(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        alice = {"Authorization": f"Bearer {ALICE}"}
        admin = {"Authorization": f"Bearer {api.server.token}"}
        async with httpx.AsyncClient(base_url=api.server.url, verify=False) as http:
            # Discovery and OpenAPI: every authenticated user (system:discovery).
            for path in ("/api", "/api/v1", "/apis", "/apis/apps/v1", "/openapi/v3"):
                assert (await http.get(path, headers=alice)).status_code == 200, path
            # Health needs no token at all.
            assert (await http.get("/healthz")).status_code == 200
            refused = await http.get("/metrics", headers=alice)
            assert (await http.get("/metrics", headers=admin)).status_code == 200
            await api.client.create(
                ClusterRole(
                    metadata=ObjectMeta(name="metrics-reader"),
                    rules=[PolicyRule(verbs=["get"], non_resource_urls=["/metrics"])],
                )
            )
            await api.client.create(
                ClusterRoleBinding(
                    metadata=ObjectMeta(name="alice-reads-metrics"),
                    subjects=[Subject(kind="User", name="alice")],
                    role_ref=RoleRef(kind="ClusterRole", name="metrics-reader"),
                )
            )
            allowed = await http.get("/metrics", headers=alice)
        assert refused.status_code == 403
        assert refused.json()["message"] == 'forbidden: User "alice" cannot get path "/metrics"'
        assert refused.json()["reason"] == "Forbidden"
        assert allowed.status_code == 200


async def test_impersonation_needs_the_impersonate_verb(tmp_path: Path) -> None:
    async with served(tmp_path, users=USERS) as api:
        await _let_alice_read_pods(api)
        # The admin (system:masters) may act as anyone: kubectl --as.
        assert await api.kubectl("auth", "can-i", "list", "pods", "--as=alice") == (
            0,
            "yes\n",
            "",
        )
        status, out, _ = await api.kubectl("auth", "can-i", "delete", "pods", "--as=alice")
        assert (status, out) == (1, "no\n")
        status, out, err = await api.kubectl("auth", "whoami", "--as=bob", "--as-group=devs")
        assert status == 0, err
        assert out.split() == [
            "ATTRIBUTE",
            "VALUE",
            "Username",
            "bob",
            "Groups",
            "[devs",
            "system:authenticated]",
        ]
        status, out, err = await api.kubectl("get", "pods", "--as=alice")
        assert status == 0, err
        status, _, err = await api.kubectl("get", "pods", "--as=bob")
        assert status == 1
        assert 'User "bob" cannot list resource "pods"' in err
        # Alice may not impersonate anyone.
        status, _, err = await api.kubectl("get", "pods", "--as=admin", token=ALICE)
        assert status == 1
        assert err.strip() == (
            'Error from server (Forbidden): users "admin" is forbidden: User "alice" cannot '
            'impersonate resource "users" in API group "" at the cluster scope'
        )
