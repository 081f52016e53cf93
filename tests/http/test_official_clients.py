"""The official `kubernetes` and `kubernetes_asyncio` clients against a served API.

The synchronous client blocks, so each of its calls runs in a worker thread while
the event loop keeps serving it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import kubernetes
import kubernetes_asyncio
import pytest

from kubeactors.api import Pod

from .harness import pod, served

T = TypeVar("T")

# The generated clients are loosely typed: they are used as Any here.
k8s: Any = kubernetes
k8s_async: Any = kubernetes_asyncio
ApiException: Any = kubernetes.client.ApiException
AsyncApiException: Any = kubernetes_asyncio.client.ApiException


def _pod_body(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "ports": []}]},
    }


async def _in_thread(call: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(call)


async def test_sync_client_crud_selectors_and_errors(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        api_client = k8s.config.new_client_from_config(str(api.server.kubeconfig))
        with api_client:
            core = k8s.client.CoreV1Api(api_client)
            created = await _in_thread(
                lambda: core.create_namespaced_pod("default", _pod_body("a", app="web"))
            )
            assert created.metadata.name == "a"
            assert created.metadata.uid
            await _in_thread(
                lambda: core.create_namespaced_pod("default", _pod_body("b", app="db"))
            )
            await _in_thread(lambda: core.create_namespaced_pod("team", _pod_body("c", app="web")))

            read = await _in_thread(lambda: core.read_namespaced_pod("a", "default"))
            assert read.spec.containers[0].image == "nginx:1.27"
            assert read.metadata.resource_version == created.metadata.resource_version

            web = await _in_thread(
                lambda: core.list_pod_for_all_namespaces(label_selector="app=web")
            )
            assert sorted((p.metadata.namespace, p.metadata.name) for p in web.items) == [
                ("default", "a"),
                ("team", "c"),
            ]
            not_web = await _in_thread(
                lambda: core.list_namespaced_pod("default", label_selector="app!=web")
            )
            assert [p.metadata.name for p in not_web.items] == ["b"]
            by_name = await _in_thread(
                lambda: core.list_namespaced_pod("default", field_selector="metadata.name=b")
            )
            assert [p.metadata.name for p in by_name.items] == ["b"]

            read.metadata.labels["tier"] = "front"
            replaced = await _in_thread(lambda: core.replace_namespaced_pod("a", "default", read))
            assert replaced.metadata.labels == {"app": "web", "tier": "front"}
            with pytest.raises(ApiException) as stale:
                await _in_thread(lambda: core.replace_namespaced_pod("a", "default", read))
            assert stale.value.status == 409
            with pytest.raises(ApiException) as exists:
                await _in_thread(lambda: core.create_namespaced_pod("default", _pod_body("a")))
            assert (exists.value.status, exists.value.reason) == (409, "Conflict")

            await _in_thread(lambda: core.delete_namespaced_pod("a", "default"))
            with pytest.raises(ApiException) as missing:
                await _in_thread(lambda: core.read_namespaced_pod("a", "default"))
            assert missing.value.status == 404
            assert '"reason":"NotFound"' in missing.value.body.replace(" ", "")
            remaining = await api.client.list(Pod, "default")
            assert [p.metadata.name for p in remaining.items] == ["b"]


async def test_sync_client_patches_of_each_type(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        api_client = k8s.config.new_client_from_config(str(api.server.kubeconfig))
        with api_client:
            core = k8s.client.CoreV1Api(api_client)
            body = _pod_body("p", app="web")
            body["spec"]["containers"].append({"name": "side", "image": "busybox"})
            await _in_thread(lambda: core.create_namespaced_pod("default", body))

            # A dict body is sent as a strategic merge patch: containers merge by name.
            strategic = {"spec": {"containers": [{"name": "side", "image": "busybox:2"}]}}
            patched = await _in_thread(lambda: core.patch_namespaced_pod("p", "default", strategic))
            assert [(c.name, c.image) for c in patched.spec.containers] == [
                ("app", "nginx:1.27"),
                ("side", "busybox:2"),
            ]

            # A list body is sent as a JSON patch.
            operations = [
                {"op": "add", "path": "/metadata/labels/tier", "value": "back"},
                {"op": "remove", "path": "/metadata/labels/app"},
            ]
            patched = await _in_thread(
                lambda: core.patch_namespaced_pod("p", "default", operations)
            )
            assert patched.metadata.labels == {"tier": "back"}

            failing = [{"op": "test", "path": "/metadata/labels/tier", "value": "front"}]
            with pytest.raises(ApiException) as failed:
                await _in_thread(lambda: core.patch_namespaced_pod("p", "default", failing))
            assert failed.value.status == 422

            # A merge patch: null deletes a key.
            merge = {"metadata": {"labels": {"tier": None, "merged": "yes"}}}
            patched = await _in_thread(
                lambda: core.patch_namespaced_pod(
                    "p", "default", merge, _content_type="application/merge-patch+json"
                )
            )
            assert patched.metadata.labels == {"merged": "yes"}
            stored = await api.client.get(Pod, "p")
            assert stored.metadata.labels == {"merged": "yes"}
            assert [c.image for c in stored.spec.containers] == ["nginx:1.27", "busybox:2"]


async def test_sync_client_watch_resumes_from_a_resource_version(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await api.client.create(pod("first"))
        api_client = k8s.config.new_client_from_config(str(api.server.kubeconfig))
        with api_client:
            core = k8s.client.CoreV1Api(api_client)
            listed = await _in_thread(lambda: core.list_namespaced_pod("default"))
            since = listed.metadata.resource_version
            await api.client.create(pod("second"))
            await api.client.delete(Pod, "first")

            await api.client.create(pod("third"))

            def watch_three() -> list[tuple[str, str]]:
                seen: list[tuple[str, str]] = []
                stream = k8s.watch.Watch().stream(
                    core.list_namespaced_pod,
                    "default",
                    resource_version=since,
                    timeout_seconds=20,
                )
                for event in stream:
                    seen.append((event["type"], event["object"].metadata.name))
                    if len(seen) == 3:
                        break
                return seen

            with anyio.fail_after(30):
                seen = await _in_thread(watch_three)
            assert seen == [("ADDED", "second"), ("DELETED", "first"), ("ADDED", "third")]


async def test_asyncio_client_crud_watch_and_errors(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        api_client = await k8s_async.config.new_client_from_config(str(api.server.kubeconfig))
        async with api_client:
            core = k8s_async.client.CoreV1Api(api_client)
            created = await core.create_namespaced_pod("default", _pod_body("a", app="web"))
            since = created.metadata.resource_version
            await core.create_namespaced_pod("default", _pod_body("b", app="db"))
            listed = await core.list_namespaced_pod("default", label_selector="app in (web,db)")
            assert sorted(p.metadata.name for p in listed.items) == ["a", "b"]

            patched = await core.patch_namespaced_pod(
                "a", "default", {"metadata": {"labels": {"app": "api"}}}
            )
            assert patched.metadata.labels == {"app": "api"}
            await core.delete_namespaced_pod("b", "default")

            seen: list[tuple[str, str, str]] = []
            watch = k8s_async.watch.Watch()
            with anyio.fail_after(30):
                async with watch.stream(
                    core.list_namespaced_pod,
                    "default",
                    resource_version=since,
                    timeout_seconds=20,
                ) as stream:
                    async for event in stream:
                        item = event["object"]
                        seen.append(
                            (event["type"], item.metadata.name, item.metadata.labels["app"])
                        )
                        if len(seen) == 3:
                            # Caught up: the next event happens while the watch is open.
                            await api.client.create(pod("c", app="live"))
                        if len(seen) == 4:
                            break
            assert seen == [
                ("ADDED", "b", "db"),
                ("MODIFIED", "a", "api"),
                ("DELETED", "b", "db"),
                ("ADDED", "c", "live"),
            ]

            with pytest.raises(AsyncApiException) as missing:
                await core.read_namespaced_pod("b", "default")
            assert missing.value.status == 404
            with pytest.raises(AsyncApiException) as invalid:
                await core.create_namespaced_pod("default", {"kind": "Pod", "metadata": {}})
            assert invalid.value.status in (400, 422)
            assert sorted(p.metadata.name for p in (await api.client.list(Pod)).items) == ["a", "c"]


async def test_status_subresource_writes_only_the_status(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        api_client = await k8s_async.config.new_client_from_config(str(api.server.kubeconfig))
        async with api_client:
            core = k8s_async.client.CoreV1Api(api_client)
            await core.create_namespaced_pod("default", _pod_body("p", app="web"))
            patched = await core.patch_namespaced_pod_status(
                "p",
                "default",
                {"status": {"phase": "Running"}, "spec": {"activeDeadlineSeconds": 5}},
            )
            assert patched.status.phase == "Running"
            assert patched.spec.active_deadline_seconds is None
            stored = await api.client.get(Pod, "p")
            assert stored.status.phase == "Running"
            read = await core.read_namespaced_pod_status("p", "default")
            read.spec.containers[0].image = "nginx:2"
            read.status.phase = "Succeeded"
            replaced = await core.replace_namespaced_pod_status("p", "default", read)
            assert replaced.status.phase == "Succeeded"
            assert replaced.spec.containers[0].image == "nginx:1.27"
