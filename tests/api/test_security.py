"""Authentication, authorisation (RBAC and the Node authoriser) and admission,
including the paths that must be refused."""

from pathlib import Path
from typing import Any

import msgspec
import pytest

from kubeactors.api import (
    AdmissionChain,
    ApiError,
    ClusterRole,
    ClusterRoleBinding,
    LimitRange,
    LimitRangeItem,
    LimitRangeSpec,
    Namespace,
    Node,
    ObjectMeta,
    Pod,
    PodStatus,
    PolicyRule,
    PriorityClass,
    ResourceQuota,
    ResourceQuotaSpec,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
    TokenAuthenticator,
    UserInfo,
    component_user,
    default_authorizer,
    node_user,
)

from .harness import make_pod, running_api

replace = msgspec.structs.replace

TOKENS = """
# token,user,uid,groups
admin-token,alice,u1,"system:masters"
dev-token,bob,u2,"developers,qa"
"""


def _secure(tmp_path: Path, **options: Any):  # type: ignore[no-untyped-def]
    return running_api(
        tmp_path,
        authenticator=TokenAuthenticator.from_csv(TOKENS),
        authorizer=default_authorizer(),
        **options,
    )


def test_token_file_parses_users_and_groups() -> None:
    tokens = TokenAuthenticator.from_csv(TOKENS)
    bob = tokens.authenticate("dev-token")
    assert bob is not None
    assert (bob.name, bob.uid) == ("bob", "u2")
    assert {"developers", "qa", "system:authenticated"} <= set(bob.groups)
    assert tokens.authenticate("nope") is None
    with pytest.raises(ValueError, match="line 1"):
        TokenAuthenticator.from_csv("only-a-token\n")
    with pytest.raises(ValueError, match="duplicate"):
        TokenAuthenticator.from_csv("t,a,1\nt,b,2\n")


async def test_requests_need_a_valid_token_or_identity(tmp_path: Path) -> None:
    async with _secure(tmp_path) as h:
        anonymous = h.client.as_user(UserInfo("x")).__class__(h.client.api, timeout=5.0)
        with pytest.raises(ApiError) as caught:
            await anonymous.list(Pod)
        assert (caught.value.code, caught.value.reason) == (401, "Unauthorized")
        with pytest.raises(ApiError) as wrong:
            await h.client.with_token("forged").list(Pod)
        assert wrong.value.code == 401
        admin = h.client.with_token("admin-token")
        await admin.create(make_pod("web"))
        assert [p.metadata.name for p in (await admin.list(Pod)).items] == ["web"]


async def test_rbac_denies_until_a_binding_grants(tmp_path: Path) -> None:
    async with _secure(tmp_path) as h:
        bob = h.client.with_token("dev-token")
        with pytest.raises(ApiError) as denied:
            await bob.list(Pod, "default")
        assert (denied.value.code, denied.value.reason) == (403, "Forbidden")
        assert 'User "bob" cannot list resource "pods"' in denied.value.status.message
        await h.client.create(
            Role(
                metadata=ObjectMeta(name="pod-reader"),
                rules=[PolicyRule(verbs=["get", "list"], api_groups=[""], resources=["pods"])],
            )
        )
        await h.client.create(
            RoleBinding(
                metadata=ObjectMeta(name="devs-read"),
                subjects=[Subject(kind="Group", name="developers")],
                role_ref=RoleRef(kind="Role", name="pod-reader"),
            )
        )
        assert (await bob.list(Pod, "default")).items == []
        with pytest.raises(ApiError) as elsewhere:
            await bob.list(Pod, "kube-system")  # the binding is namespaced
        assert elsewhere.value.code == 403
        with pytest.raises(ApiError) as all_namespaces:
            await bob.list(Pod)
        assert all_namespaces.value.code == 403
        with pytest.raises(ApiError) as write:
            await bob.create(make_pod("x"))
        assert write.value.code == 403


async def test_cluster_roles_resource_names_and_subresources(tmp_path: Path) -> None:
    async with _secure(tmp_path) as h:
        carol = h.client.as_user(component_user("carol"))
        await h.client.create(Node(metadata=ObjectMeta(name="n1")))
        await h.client.create(Node(metadata=ObjectMeta(name="n2")))
        await h.client.create(
            ClusterRole(
                metadata=ObjectMeta(name="n1-status"),
                rules=[
                    PolicyRule(
                        verbs=["get", "update"],
                        api_groups=[""],
                        resources=["nodes", "nodes/status"],
                        resource_names=["n1"],
                    )
                ],
            )
        )
        await h.client.create(
            ClusterRoleBinding(
                metadata=ObjectMeta(name="carol"),
                subjects=[Subject(kind="User", name="carol")],
                role_ref=RoleRef(kind="ClusterRole", name="n1-status"),
            )
        )
        n1 = await carol.get(Node, "n1")
        await carol.update_status(n1)
        with pytest.raises(ApiError) as other:
            await carol.get(Node, "n2")
        assert other.value.code == 403
        with pytest.raises(ApiError) as listing:
            await carol.list(Node)  # resourceNames never grant list
        assert listing.value.code == 403


async def test_default_roles_let_the_scheduler_bind_but_not_create(tmp_path: Path) -> None:
    async with _secure(tmp_path, compat_updates=False) as h:
        scheduler = h.client.as_user(component_user("system:kube-scheduler"))
        pod = await h.client.create(make_pod("web"))
        assert [p.metadata.name for p in (await scheduler.list(Pod)).items] == ["web"]
        await scheduler.bind(pod, "n1")
        with pytest.raises(ApiError) as denied:
            await scheduler.create(make_pod("mine"))
        assert denied.value.code == 403


async def test_a_kubelet_touches_only_its_own_node_and_pods(tmp_path: Path) -> None:
    async with _secure(tmp_path, compat_updates=False) as h:
        kubelet = h.client.as_user(node_user("n1"))
        own = await kubelet.create(Node(metadata=ObjectMeta(name="n1")))
        with pytest.raises(ApiError) as foreign_node:
            await kubelet.create(Node(metadata=ObjectMeta(name="n2")))
        assert foreign_node.value.code == 403
        await kubelet.update_status(own)
        mine = await h.client.bind(await h.client.create(make_pod("mine")), "n1")
        theirs = await h.client.bind(await h.client.create(make_pod("theirs")), "n2")
        running = PodStatus(phase="Running")
        updated = await kubelet.update_status(replace(mine, status=running))
        assert updated.status.phase == "Running"
        with pytest.raises(ApiError) as foreign_pod:
            await kubelet.update_status(replace(theirs, status=running))
        assert foreign_pod.value.code == 403
        assert "bound to" in foreign_pod.value.status.message
        with pytest.raises(ApiError) as delete_foreign:
            await kubelet.delete(Pod, "theirs", grace_period_seconds=0)
        assert delete_foreign.value.code == 403
        await kubelet.delete(Pod, "mine", grace_period_seconds=0)
        with pytest.raises(ApiError) as spec_write:
            await kubelet.update(theirs)
        assert spec_write.value.code == 403
        with pytest.raises(ApiError) as make:
            await kubelet.create(make_pod("new"))
        assert make.value.code == 403


async def test_namespace_lifecycle_refuses_missing_and_terminating(tmp_path: Path) -> None:
    async with _secure(tmp_path) as h:
        with pytest.raises(ApiError) as missing:
            await h.client.create(make_pod("x", namespace="nowhere"))
        assert missing.value.code == 404
        await h.client.create(Namespace(metadata=ObjectMeta(name="team", finalizers=["hold"])))
        await h.client.delete(Namespace, "team")
        with pytest.raises(ApiError) as terminating:
            await h.client.create(make_pod("x", namespace="team"))
        assert terminating.value.code == 403
        assert "being terminated" in terminating.value.status.message
        with pytest.raises(ApiError) as protected:
            await h.client.delete(Namespace, "kube-system")
        assert protected.value.code == 403


async def test_default_toleration_seconds_and_priority(tmp_path: Path) -> None:
    async with _secure(tmp_path) as h:
        pod = await h.client.create(make_pod("web"))
        tolerated = {(t.key, t.effect, t.toleration_seconds) for t in pod.spec.tolerations}
        assert tolerated == {
            ("node.kubernetes.io/not-ready", "NoExecute", 300),
            ("node.kubernetes.io/unreachable", "NoExecute", 300),
        }
        assert pod.spec.priority == 0
        critical = make_pod("critical")
        critical = replace(
            critical, spec=replace(critical.spec, priority_class_name="system-node-critical")
        )
        assert (await h.client.create(critical)).spec.priority == 2_000_001_000
        await h.client.create(
            PriorityClass(metadata=ObjectMeta(name="high"), value=1000, global_default=True)
        )
        assert (await h.client.create(make_pod("later"))).spec.priority == 1000
        # The default class is remembered between creates: its removal must count.
        await h.client.delete(PriorityClass, "high")
        assert (await h.client.create(make_pod("after"))).spec.priority == 0
        unknown = replace(
            critical,
            metadata=ObjectMeta(name="u"),
            spec=replace(critical.spec, priority_class_name="nope"),
        )
        with pytest.raises(ApiError, match="no PriorityClass with name nope"):
            await h.client.create(unknown)


async def test_resource_quota_counts_pods_and_requests(tmp_path: Path) -> None:
    async with _secure(tmp_path) as h:
        await h.client.create(
            ResourceQuota(
                metadata=ObjectMeta(name="q"),
                spec=ResourceQuotaSpec(hard={"pods": "3", "requests.cpu": "250m"}),
            )
        )
        await h.client.create(make_pod("a", cpu="100m"))
        await h.client.create(make_pod("b", cpu="100m"))
        with pytest.raises(ApiError) as cpu:
            await h.client.create(make_pod("c", cpu="100m"))
        assert cpu.value.code == 403
        assert "exceeded quota: q" in cpu.value.status.message
        assert "requests.cpu" in cpu.value.status.message
        await h.client.create(make_pod("c", cpu="50m"))
        with pytest.raises(ApiError, match="exceeded quota"):
            await h.client.create(make_pod("d", cpu="0"))
        await h.client.delete(Pod, "a")
        await h.client.create(make_pod("d", cpu="0"))


async def test_limit_ranger_defaults_and_bounds(tmp_path: Path) -> None:
    async with _secure(tmp_path) as h:
        await h.client.create(
            LimitRange(
                metadata=ObjectMeta(name="lr"),
                spec=LimitRangeSpec(
                    limits=[
                        LimitRangeItem(
                            type="Container",
                            default={"memory": "256Mi"},
                            default_request={"cpu": "50m"},
                            max={"memory": "1Gi"},
                        )
                    ]
                ),
            )
        )
        bare = make_pod("bare")
        bare = replace(
            bare,
            spec=replace(
                bare.spec,
                containers=[
                    replace(
                        bare.spec.containers[0], resources=type(bare.spec.containers[0].resources)()
                    )
                ],
            ),
        )
        created = await h.client.create(bare)
        resources = created.spec.containers[0].resources
        assert resources.limits == {"memory": "256Mi"}
        assert resources.requests == {"cpu": "50m", "memory": "256Mi"}
        big = make_pod("big")
        container = big.spec.containers[0]
        big = replace(
            big,
            spec=replace(
                big.spec,
                containers=[
                    replace(
                        container, resources=replace(container.resources, limits={"memory": "2Gi"})
                    )
                ],
            ),
        )
        with pytest.raises(ApiError, match="maximum memory usage per Container is 1Gi"):
            await h.client.create(big)


async def test_admission_order_is_configurable(tmp_path: Path) -> None:
    async with running_api(tmp_path, admission=["Priority"]) as h:
        pod = await h.client.create(make_pod("web", namespace="anywhere"))
        assert pod.spec.tolerations == []
        assert pod.spec.priority == 0
    with pytest.raises(ValueError, match="unknown admission plugin"):
        AdmissionChain(["NoSuchPlugin"])
