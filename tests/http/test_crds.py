"""CustomResourceDefinitions over HTTP, with kubectl and the official asyncio client:
a CRD applied is served at once (discovery, OpenAPI, tables), and gone when deleted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_asyncio
import pytest

from ..api.crds import WIDGET_CRD_YAML
from .harness import KUBECTL, Served, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

k8s_async: Any = kubernetes_asyncio

WIDGET_YAML = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
spec:
  size: 3
  replicas: 2
"""


async def _ok(api: Served, *args: str) -> str:
    status, out, err = await api.kubectl(*args)
    assert status == 0, err
    return out


async def _apply_widgets(api: Served, directory: Path) -> None:
    (directory / "crd.yaml").write_text(WIDGET_CRD_YAML)
    (directory / "widget.yaml").write_text(WIDGET_YAML)
    out = await _ok(api, "apply", "-f", str(directory / "crd.yaml"))
    assert (
        out.strip() == "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"
    )
    await _ok(api, "wait", "--for=condition=Established", "crd/widgets.example.com")
    out = await _ok(api, "apply", "-f", str(directory / "widget.yaml"))
    assert out.strip() == "widget.example.com/w1 created"


async def test_kubectl_applies_gets_explains_patches_and_deletes(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        # Unknown before its CRD; kubectl finds it after (discovery fetched anew).
        status, _, err = await api.kubectl("get", "widgets")
        assert status == 1
        assert 'the server doesn\'t have a resource type "widgets"' in err
        await _apply_widgets(api, tmp_path)

        lines = (await _ok(api, "get", "widgets")).splitlines()
        assert lines[0].split() == ["NAME", "SIZE", "COLOR", "PHASE", "AGE"]
        assert lines[1].split()[:3] == ["w1", "3", "red"]
        by_short_name = json.loads(await _ok(api, "get", "wd", "w1", "-o", "json"))
        assert by_short_name["spec"] == {"size": 3, "replicas": 2, "color": "red"}

        crds = (await _ok(api, "get", "crds")).splitlines()
        assert crds[0].split() == ["NAME", "CREATED", "AT"]
        crd = await api.client.get(api.kinds.of_name("crd").type, "widgets.example.com")
        assert crds[1].split() == ["widgets.example.com", crd.metadata.creation_timestamp]

        explained = await _ok(api, "explain", "widget.spec.size")
        assert "FIELD: size <integer>" in explained
        assert "How big, from 1 to 10." in explained

        await _ok(api, "patch", "widget", "w1", "--type=merge", "-p", '{"spec":{"size":5}}')
        status, _, err = await api.kubectl(
            "patch", "widget", "w1", "--type=json", "-p",
            '[{"op":"replace","path":"/spec/size","value":11}]',
        )  # fmt: skip
        assert status == 1
        assert err.strip() == (
            'The Widget "w1" is invalid: spec.size: Invalid value: 11: '
            "spec.size in body should be less than or equal to 10"
        )
        status, _, err = await api.kubectl("patch", "widget", "w1", "-p", '{"spec":{"size":4}}')
        assert status == 1
        assert "application/strategic-merge-patch+json is not supported" in err

        await _ok(api, "scale", "widget", "w1", "--replicas=4")
        await _ok(
            api, "patch", "widget", "w1", "--subresource=status", "--type=merge",
            "-p", '{"status":{"phase":"Ready","replicas":4}}',
        )  # fmt: skip
        shown = json.loads(await _ok(api, "get", "widget", "w1", "-o", "json"))
        assert shown["spec"] == {"size": 5, "replicas": 4, "color": "red"}
        assert shown["status"] == {"phase": "Ready", "replicas": 4}
        assert (await _ok(api, "get", "widgets", "--no-headers")).split()[:4] == [
            "w1",
            "5",
            "red",
            "Ready",
        ]

        out = await _ok(api, "delete", "crd", "widgets.example.com")
        assert (
            out.strip()
            == 'customresourcedefinition.apiextensions.k8s.io "widgets.example.com" deleted'
        )
        # kubectl's cached discovery still names the resource: the server says it is gone.
        status, _, err = await api.kubectl("get", "widgets")
        assert status == 1
        assert err.strip() == (
            'Error from server (NotFound): Unable to list "example.com/v1, Resource=widgets": '
            "the server could not find the requested resource"
        )
        assert (await api.client.list(api.kinds.of_name("crd").type)).items == []


async def test_discovery_and_openapi_show_the_custom_kind(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await _apply_widgets(api, tmp_path)
        out = await _ok(api, "api-resources", "--api-group=example.com", "--no-headers")
        assert out.split() == ["widgets", "wd", "example.com/v1", "true", "Widget"]
        resources = json.loads(await _ok(api, "get", "--raw", "/apis/example.com/v1"))
        served_names = {r["name"]: r.get("verbs") for r in resources["resources"]}
        assert served_names["widgets/status"] == ["get", "patch", "update"]
        assert served_names["widgets/scale"] == ["get", "patch", "update"]
        assert "watch" in served_names["widgets"]
        (tmp_path / "w2.yaml").write_text(WIDGET_YAML.replace("w1", "w2").replace("3", "6"))
        applied = await _ok(api, "apply", "--server-side", "-f", str(tmp_path / "w2.yaml"))
        assert applied.strip() == "widget.example.com/w2 serverside-applied"
        categories = await _ok(api, "get", "toys", "--no-headers")
        assert [line.split()[:2] for line in categories.splitlines()] == [
            ["w1", "3"],
            ["w2", "6"],
        ]
        document = json.loads(await _ok(api, "get", "--raw", "/openapi/v3/apis/example.com/v1"))
        schema = document["components"]["schemas"]["com.example.v1.Widget"]
        assert schema["x-kubernetes-group-version-kind"] == [
            {"group": "example.com", "version": "v1", "kind": "Widget"}
        ]
        assert schema["properties"]["spec"]["required"] == ["size"]


async def test_the_asyncio_client_creates_watches_and_patches_status(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await _apply_widgets(api, tmp_path)
        api_client = await k8s_async.config.new_client_from_config(str(api.server.kubeconfig))
        async with api_client:
            custom = k8s_async.client.CustomObjectsApi(api_client)
            body = {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w2"},
                "spec": {"size": 2, "stray": True},
            }
            created = await custom.create_namespaced_custom_object(
                "example.com", "v1", "default", "widgets", body
            )
            assert created["spec"] == {"size": 2, "color": "red"}
            listed = await custom.list_namespaced_custom_object(
                "example.com", "v1", "default", "widgets"
            )
            assert sorted(item["metadata"]["name"] for item in listed["items"]) == ["w1", "w2"]

            watch = k8s_async.watch.Watch()
            seen = []
            async with watch.stream(
                custom.list_namespaced_custom_object,
                "example.com",
                "v1",
                "default",
                "widgets",
                resource_version=listed["metadata"]["resourceVersion"],
                timeout_seconds=10,
            ) as stream:
                await custom.patch_namespaced_custom_object_status(
                    "example.com",
                    "v1",
                    "default",
                    "widgets",
                    "w2",
                    {"status": {"phase": "Up"}},
                    _content_type="application/merge-patch+json",
                )
                async for event in stream:
                    seen.append((event["type"], event["object"]["status"]))
                    break
            assert seen == [("MODIFIED", {"phase": "Up"})]

            scale = await custom.get_namespaced_custom_object_scale(
                "example.com", "v1", "default", "widgets", "w1"
            )
            assert scale["spec"]["replicas"] == 2
            with pytest.raises(k8s_async.client.ApiException) as caught:
                await custom.create_namespaced_custom_object(
                    "example.com", "v1", "default", "widgets", {**body, "spec": {}}
                )
            assert caught.value.status == 422
            assert json.loads(caught.value.body)["details"]["causes"][0]["field"] == "spec.size"


async def test_custom_kinds_are_served_again_after_a_restart(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await _apply_widgets(api, tmp_path)
    async with served(tmp_path) as api:
        await api.client.list(api.kinds.of_name("crd").type)  # the server has started
        out = await _ok(api, "get", "widget", "w1", "-o", "jsonpath={.spec.size}")
        assert out == "3"
