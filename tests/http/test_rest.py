"""The REST layer over HTTPS with a plain HTTP client: Status errors, discovery, auth."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubeactors.api import Pod
from kubeactors.http import HttpServer

from .harness import Served, pod, served


def _client(api: Served, token: str | None = "") -> httpx.AsyncClient:
    server = api.server
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token or server.token}"
    return httpx.AsyncClient(
        base_url=server.url,
        verify=ssl.create_default_context(cafile=server.data_dir / "pki" / "ca.crt"),
        headers=headers,
    )


def _status(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["kind"] == "Status"
    assert body["code"] == response.status_code
    return body


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", "application/json", "could not be decoded"),
        (
            b'{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "x"}}',
            "application/json",
            "this path serves Pod",
        ),
        (
            b'{"metadata": {"name": "x", "namespace": "other"}}',
            "application/json",
            "does not match the namespace",
        ),
        (b'{"metadata": {"name": 5}}', "application/json", "metadata.name"),
        (b"\x08\x01", "application/vnd.kubernetes.protobuf", "must start with the bytes"),
        (b"\x08\x01", "application/cbor", "unknown format"),
    ],
)
async def test_bad_bodies_get_a_status_and_change_nothing(
    tmp_path: Path, body: bytes, content_type: str, message: str
) -> None:
    async with served(tmp_path) as api, _client(api) as http:
        response = await http.post(
            "/api/v1/namespaces/default/pods", content=body, headers={"Content-Type": content_type}
        )
        status = _status(response)
        assert response.status_code in (400, 415)
        assert message in status["message"]
        assert (await api.client.list(Pod)).items == []


async def test_strict_field_validation_names_the_field(tmp_path: Path) -> None:
    async with served(tmp_path) as api, _client(api) as http:
        body = {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "a", "imag": "b"}]}}
        response = await http.post(
            "/api/v1/namespaces/default/pods?fieldValidation=Strict", json=body
        )
        assert response.status_code == 400
        assert 'unknown field "spec.containers[0].imag"' in _status(response)["message"]
        lax = await http.post("/api/v1/namespaces/default/pods", json=body)
        assert lax.status_code == 201


async def test_oversized_body_is_413(tmp_path: Path) -> None:
    async with served(tmp_path) as api, _client(api) as http:
        huge = b'{"metadata": {"name": "x", "annotations": {"a": "' + b"x" * (4 << 20) + b'"}}}'
        response = await http.post("/api/v1/namespaces/default/pods", content=huge)
        assert response.status_code == 413
        assert _status(response)["reason"] == "RequestEntityTooLarge"
        assert (await api.client.list(Pod)).items == []


async def test_names_that_escape_the_path_are_refused(tmp_path: Path) -> None:
    async with served(tmp_path) as api, _client(api) as http:
        await api.client.create(pod("victim", "other"))
        response = await http.delete("/api/v1/namespaces/default/pods/..%2Fother%2Fvictim")
        assert response.status_code == 400
        assert _status(response)["reason"] == "BadRequest"
        assert (await api.client.get(Pod, "victim", "other")).metadata.name == "victim"


async def test_unknown_paths_and_methods(tmp_path: Path) -> None:
    async with served(tmp_path) as api, _client(api) as http:
        missing = await http.get("/api/v1/widgets")
        assert _status(missing)["message"] == "the server could not find the requested resource"
        assert (await http.get("/apis/nosuch.example.com/v1")).status_code == 404
        assert (await http.get("/apis/apps/v2")).status_code == 404
        assert (await http.post("/api/v1/namespaces/default/pods/x")).status_code == 405
        gone = await http.get("/api/v1/namespaces/default/pods/nope")
        assert _status(gone)["reason"] == "NotFound"
        assert _status(gone)["details"] == {"name": "nope", "kind": "pods"}


async def test_tokens_guard_everything_but_health_and_version(tmp_path: Path) -> None:
    async with served(tmp_path) as api, _client(api, token=None) as anonymous:
        for path in ("/healthz", "/livez", "/readyz", "/version"):
            assert (await anonymous.get(path)).status_code == 200, path
        for path in ("/api", "/api/v1/pods", "/metrics", "/openapi/v3"):
            refused = await anonymous.get(path)
            assert _status(refused)["reason"] == "Unauthorized", path
        async with _client(api, token="wrong") as wrong:
            assert (await wrong.get("/api/v1/pods")).status_code == 401


async def test_patch_types(tmp_path: Path) -> None:
    async with served(tmp_path) as api, _client(api) as http:
        await api.client.create(pod("p", app="a"))
        path = "/api/v1/namespaces/default/pods/p"
        merge = await http.patch(
            path,
            json={"metadata": {"labels": {"app": None, "b": "2"}}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert merge.json()["metadata"]["labels"] == {"b": "2"}
        strategic = await http.patch(
            path,
            json={"spec": {"containers": [{"name": "app", "image": "new"}, {"name": "side"}]}},
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )
        containers = strategic.json()["spec"]["containers"]
        assert [(c["name"], c.get("image")) for c in containers] == [
            ("app", "new"),
            ("side", None),
        ]
        failed = await http.patch(
            path,
            json=[{"op": "test", "path": "/metadata/labels/b", "value": "3"}],
            headers={"Content-Type": "application/json-patch+json"},
        )
        assert failed.status_code == 422
        replaced = await http.patch(
            path,
            json=[{"op": "replace", "path": "/metadata/labels/b", "value": "3"}],
            headers={"Content-Type": "application/json-patch+json"},
        )
        assert replaced.json()["metadata"]["labels"] == {"b": "3"}


async def test_discovery_both_ways(tmp_path: Path) -> None:
    async with served(tmp_path) as api, _client(api) as http:
        legacy = (await http.get("/api/v1")).json()
        pods = next(r for r in legacy["resources"] if r["name"] == "pods")
        assert pods["shortNames"] == ["po"]
        assert pods["categories"] == ["all"]
        assert "watch" in pods["verbs"]
        accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        aggregated = await http.get("/api", headers={"Accept": accept + ",application/json"})
        assert aggregated.headers["content-type"] == accept
        [core] = aggregated.json()["items"]
        resources = {r["resource"]: r for r in core["versions"][0]["resources"]}
        assert resources["nodes"]["scope"] == "Cluster"
        assert resources["pods"]["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
        assert (await http.get("/api")).json()["kind"] == "APIVersions"


async def test_watch_streams_json_lines_until_its_timeout(tmp_path: Path) -> None:
    async with served(tmp_path) as api, _client(api) as http:
        await api.client.create(pod("first"))
        listed = (await http.get("/api/v1/pods")).json()
        version = listed["metadata"]["resourceVersion"]
        await api.client.create(pod("second"))
        events = []
        url = f"/api/v1/pods?watch=true&resourceVersion={version}&timeoutSeconds=1"
        async with http.stream("GET", url) as response:
            async for line in response.aiter_lines():
                if line:
                    events.append(httpx.Response(200, content=line).json())
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
            ("ADDED", "second")
        ]


async def test_plain_http_only_on_loopback(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        HttpServer(
            None,  # type: ignore[arg-type]
            tmp_path,
            clock=None,  # type: ignore[arg-type]
            wall_clock=None,  # type: ignore[arg-type]
            host="0.0.0.0",
            tls=False,
        )
    async with served(tmp_path, tls=False) as api:
        assert api.server.url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=api.server.url) as http:
            assert (await http.get("/healthz")).text == "ok"


async def test_certificates_survive_a_restart(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        token, kubeconfig = api.server.token, api.server.kubeconfig.read_text()
    ca = (tmp_path / "pki" / "ca.crt").read_bytes()
    async with served(tmp_path) as again:
        assert again.server.token == token
        assert (tmp_path / "pki" / "ca.crt").read_bytes() == ca
        assert "certificate-authority-data" in kubeconfig
        async with _client(again) as http:
            assert (await http.get("/api/v1/nodes")).status_code == 200
