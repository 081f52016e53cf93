"""`HttpClient` implements the whole `ApiClient` protocol: selectors and paging, status
updates, each patch type, delete options, binding, scale, bookmarks, and an Informer."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest

from kubeactors.api import (
    ApiError,
    Container,
    Deployment,
    DeploymentSpec,
    LabelSelector,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    UserInfo,
    node_user,
)
from kubeactors.client import ApiClient, Delta, Informer
from kubeactors.http import HttpClient

from .harness import pod, ready_node, served


def _deployment(name: str, replicas: int) -> Deployment:
    labels = {"app": name}
    return Deployment(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=DeploymentSpec(
            replicas=replicas,
            selector=LabelSelector(match_labels=labels),
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=labels),
                spec=PodSpec(containers=[Container(name="app", image="nginx")]),
            ),
        ),
    )


async def test_lists_select_and_page(tmp_path: Path) -> None:
    async with served(tmp_path) as api, HttpClient.from_kubeconfig(api.server.kubeconfig) as http:
        client: ApiClient = http
        for i in range(5):
            await client.create(
                pod(f"p{i}", node="n1" if i % 2 else "", tier="web" if i < 3 else "db")
            )
        web = await client.list(Pod, label_selector="tier=web")
        assert [p.metadata.name for p in web.items] == ["p0", "p1", "p2"]
        bound = await client.list(Pod, field_selector="spec.nodeName=n1")
        assert [p.metadata.name for p in bound.items] == ["p1", "p3"]
        first = await client.list(Pod, "default", limit=2)
        assert [p.metadata.name for p in first.items] == ["p0", "p1"]
        assert first.continue_
        rest = await client.list(Pod, "default", limit=10, continue_=first.continue_)
        assert [p.metadata.name for p in rest.items] == ["p2", "p3", "p4"]
        assert not rest.continue_


async def test_status_patches_and_delete_options(tmp_path: Path) -> None:
    async with served(tmp_path) as api, HttpClient.from_kubeconfig(api.server.kubeconfig) as http:
        client: ApiClient = http
        created = await client.create(pod("a", app="x"))
        running = msgspec.structs.replace(
            created,
            status=msgspec.structs.replace(created.status, phase="Running"),
            metadata=msgspec.structs.replace(created.metadata, labels={"ignored": "no"}),
        )
        updated = await client.update_status(running)
        assert updated.status.phase == "Running"
        merged = await client.patch(
            Pod, "a", {"metadata": {"labels": {"b": "2"}}}, patch_type="merge"
        )
        assert merged.metadata.labels["b"] == "2"
        listed = await client.patch(
            Pod,
            "a",
            [{"op": "add", "path": "/metadata/annotations", "value": {"n": "1"}}],
            patch_type="json",
        )
        assert listed.metadata.annotations == {"n": "1"}
        strategic = await client.patch(
            Pod, "a", {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}
        )
        assert [c.image for c in strategic.spec.containers] == ["nginx:2"]
        status = await client.patch(
            Pod, "a", {"status": {"phase": "Succeeded"}}, patch_type="merge", subresource="status"
        )
        assert status.status.phase == "Succeeded"
        with pytest.raises(ApiError) as wrong:
            await client.delete(Pod, "a", precondition_uid="not-the-uid")
        assert wrong.value.code == 409
        with pytest.raises(ApiError) as stale:
            await client.delete(Pod, "a", precondition_resource_version="1")
        assert stale.value.code == 409
        await client.delete(
            Pod, "a", precondition_uid=created.metadata.uid, propagation_policy="Background"
        )
        with pytest.raises(ApiError) as gone:
            await client.get(Pod, "a")
        assert gone.value.code == 404


async def test_bind_and_scale(tmp_path: Path) -> None:
    async with served(tmp_path) as api, HttpClient.from_kubeconfig(api.server.kubeconfig) as http:
        client: ApiClient = http
        await client.create(ready_node("n1"))
        unbound = await client.create(pod("a"))
        bound = await client.bind(unbound, "n1")
        assert bound.spec.node_name == "n1"
        with pytest.raises(ApiError) as again:
            await client.bind(bound, "n1")
        assert again.value.code == 409
        await client.create(_deployment("web", 2))
        scale = await client.get_scale(Deployment, "web", "default")
        assert scale.spec.replicas == 2
        wanted = msgspec.structs.replace(
            scale, spec=msgspec.structs.replace(scale.spec, replicas=5)
        )
        assert (await client.update_scale(Deployment, wanted)).spec.replicas == 5
        assert (await client.get(Deployment, "web")).spec.replicas == 5


async def test_watch_selects_and_an_informer_runs_over_http(tmp_path: Path) -> None:
    async with served(tmp_path) as api, HttpClient.from_kubeconfig(api.server.kubeconfig) as http:
        client: ApiClient = http
        watch = await client.watch(
            Pod, "default", "0", label_selector="app=web", allow_bookmarks=True
        )
        informer: Informer[Pod] = Informer(client, Pod)
        names: set[str] = set()
        enough = anyio.Event()

        async def on_batch(deltas: list[Delta[Pod]]) -> None:
            for delta in deltas:
                (names.discard if delta.type == "DELETED" else names.add)(
                    delta.object.metadata.name
                )
            if names == {"web-1", "other"}:
                enough.set()

        informer.add_batch_handler(on_batch)
        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                group.start_soon(informer.run)
                await informer.wait_synced()
                await client.create(pod("web-0", app="web"))
                await client.create(pod("other", app="db"))
                await client.create(pod("web-1", app="web"))
                await client.delete(Pod, "web-0")
                await enough.wait()
                group.cancel_scope.cancel()
            seen: list[tuple[str, str]] = []
            async for batch in watch:
                seen += [(e.type, e.object.metadata.name) for e in batch if e.type != "BOOKMARK"]
                if len(seen) == 3:
                    break
        watch.close()
        assert seen == [("ADDED", "web-0"), ("ADDED", "web-1"), ("DELETED", "web-0")]
        assert informer.get("default/web-1") is not None


async def test_an_impersonating_client_asks_as_that_identity(tmp_path: Path) -> None:
    async with (
        served(tmp_path, users={"alice-token-0123456789": "alice"}) as api,
        HttpClient.from_kubeconfig(api.server.kubeconfig) as admin,
    ):
        kubelet = admin.impersonating(node_user("n1"))
        assert (await kubelet.create(ready_node("n1"))).metadata.name == "n1"
        with pytest.raises(ApiError) as other_node:
            await kubelet.create(ready_node("n2"))
        assert other_node.value.code == 403
        assert 'node "n1" can only modify its own Node' in other_node.value.status.message
        alice = admin.impersonating(UserInfo("alice"))
        with pytest.raises(ApiError) as refused:
            await alice.list(Pod)
        assert 'User "alice" cannot list resource "pods"' in refused.value.status.message
        assert (await admin.list(Pod)).items == []
