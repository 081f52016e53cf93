"""A kopf operator, run in process, against a served cluster (what `kubeactors up`
runs): it sees custom objects created, changed and deleted, keeps a ConfigMap per
object and reports status."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import kopf
import msgspec
import yaml

from kubeactors import Cluster
from kubeactors.api import ApiError, ConfigMap, CustomResourceDefinition, ObjectMeta
from kubeactors.client import Client

GREETINGS_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: greetings.example.com
spec:
  group: example.com
  names: {plural: greetings, singular: greeting, kind: Greeting}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [message]
              properties:
                message: {type: string}
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
"""

_WAIT = 30.0


def _operator_registry(client: Client) -> kopf.OperatorRegistry:
    """The operator under test: a ConfigMap per Greeting, holding its message."""
    registry = kopf.OperatorRegistry()

    @kopf.on.create("example.com", "v1", "greetings", id="created", registry=registry)
    async def created(spec: Any, name: str, namespace: str | None, **_: Any) -> object:
        config = ConfigMap(
            metadata=ObjectMeta(name=f"{name}-greeting", namespace=namespace or ""),
            data={"message": spec["message"]},
        )
        await client.create(config)
        return {"configMap": config.metadata.name}

    @kopf.on.update("example.com", "v1", "greetings", id="updated", registry=registry)
    async def updated(spec: Any, name: str, namespace: str | None, **_: Any) -> object:
        patch = {"data": {"message": spec["message"]}}
        await client.patch(
            ConfigMap, f"{name}-greeting", patch, patch_type="merge", namespace=namespace or ""
        )
        return {"message": spec["message"]}

    @kopf.on.delete("example.com", "v1", "greetings", id="deleted", registry=registry)
    async def deleted(name: str, namespace: str | None, **_: Any) -> object:
        await client.delete(ConfigMap, f"{name}-greeting", namespace or "")
        return None

    return registry


def _login(kubeconfig: Path, directory: Path) -> kopf.ConnectionInfo:
    config = yaml.safe_load(kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    ca = directory / "kopf-ca.crt"
    ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    return kopf.ConnectionInfo(
        server=cluster["server"],
        ca_path=str(ca),
        token=config["users"][0]["user"]["token"],
        default_namespace="default",
    )


@asynccontextmanager
async def _running_operator(
    client: Client, kubeconfig: Path, directory: Path
) -> AsyncIterator[None]:
    registry = _operator_registry(client)
    connection = _login(kubeconfig, directory)

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return connection

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.level = logging.WARNING
        settings.watching.server_timeout = 10
        settings.networking.request_timeout = 10

    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(
        kopf.operator(
            registry=registry,
            standalone=True,
            namespaces=["default"],
            ready_flag=ready,
            stop_flag=stop,
        )
    )
    try:
        with anyio.fail_after(_WAIT):
            await ready.wait()
        yield
    finally:
        stop.set()
        with anyio.fail_after(_WAIT):
            await task


async def _eventually(check: Any, what: str) -> Any:
    """Poll `check()` until it returns something true (kopf works in its own time)."""
    with anyio.fail_after(_WAIT):
        while True:
            try:
                found = await check()
            except ApiError as error:
                if error.code != 404:
                    raise
                found = None
            if found:
                return found
            await anyio.sleep(0.05)
    raise AssertionError(f"never saw {what}")  # pragma: no cover


async def test_a_kopf_operator_handles_create_update_and_delete(tmp_path: Path) -> None:
    async with Cluster(nodes=1, serve=True, data_dir=tmp_path / "cluster") as cluster:
        assert cluster.server is not None
        client = cluster.client
        crd = msgspec.yaml.decode(GREETINGS_CRD, type=CustomResourceDefinition)
        await client.create(crd)
        greetings = cluster.kinds.of_resource("example.com", "greetings").type

        async with _running_operator(client, cluster.server.kubeconfig, tmp_path):
            await client.create(
                greetings(
                    metadata=ObjectMeta(name="hello", namespace="default"),
                    spec={"message": "hi"},
                )
            )

            async def config_map() -> ConfigMap:
                return await client.get(ConfigMap, "hello-greeting", "default")

            created = await _eventually(config_map, "the ConfigMap of the Greeting")
            assert created.data == {"message": "hi"}

            async def reported() -> Any:
                obj = await client.get(greetings, "hello", "default")
                return (obj.status or {}).get("created")

            assert await _eventually(reported, "the create handler's status") == {
                "configMap": "hello-greeting"
            }
            greeting = await client.get(greetings, "hello", "default")
            assert "kopf.zalando.org/KopfFinalizerMarker" in greeting.metadata.finalizers

            await client.patch(
                greetings,
                "hello",
                {"spec": {"message": "bonjour"}},
                patch_type="merge",
                namespace="default",
            )

            async def changed() -> bool:
                return (await config_map()).data.get("message") == "bonjour"

            await _eventually(changed, "the ConfigMap follow the Greeting's update")

            async def updated_status() -> Any:
                obj = await client.get(greetings, "hello", "default")
                return (obj.status or {}).get("updated")

            assert await _eventually(updated_status, "the update handler's status") == {
                "message": "bonjour"
            }

            await client.delete(greetings, "hello", "default")

            async def gone() -> bool:
                names = [obj.metadata.name for obj in (await client.list(ConfigMap)).items]
                listed = await client.list(greetings, "default")
                return "hello-greeting" not in names and not listed.items

            await _eventually(gone, "the Greeting and its ConfigMap deleted")
