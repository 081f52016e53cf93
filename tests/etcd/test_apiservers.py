"""Two `kubeactors apiserver` processes over one etcd serve one consistent cluster."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import msgspec
import pytest

from kubeactors.api import (
    ApiError,
    ConfigMap,
    ObjectMeta,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
    WatchEvent,
)
from kubeactors.http import HttpClient

from ..api.crds import WIDGET_CRD_YAML
from .etcd_cluster import EtcdCluster, etcd_available

KUBECTL = "/usr/bin/kubectl"
WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
spec:
  size: 3
"""
CAROL = "carol-token-0123456789"


@pytest.fixture
def etcd() -> Iterator[EtcdCluster]:
    if not etcd_available():
        pytest.skip("etcd is not installed (apt-get install -y etcd-server)")
    with EtcdCluster(1) as cluster:
        yield cluster


@asynccontextmanager
async def apiserver(store: str, data_dir: Path, kubeconfig: Path) -> AsyncIterator[Path]:
    """`kubeactors apiserver` in a process of its own, until the block ends (SIGINT)."""
    process = await anyio.open_process(
        [
            sys.executable,
            "-m",
            "kubeactors.cli",
            "apiserver",
            "--store",
            store,
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            "--kubeconfig",
            str(kubeconfig),
        ]
    )
    try:
        assert process.stdout is not None
        line = b""
        with anyio.fail_after(60):
            while not line.endswith(b"\n"):
                line += await process.stdout.receive(1)
        assert line.decode().strip() == f"export KUBECONFIG={kubeconfig}"
        yield kubeconfig
    finally:
        await _stop(process)


async def _stop(process: anyio.abc.Process) -> None:
    process.send_signal(signal.SIGINT)
    with anyio.fail_after(30):
        assert await process.wait() == 0


def _summary(event: WatchEvent[ConfigMap]) -> tuple[str, str, str, dict[str, str]]:
    meta = event.object.metadata
    return event.type, meta.name, meta.resource_version, event.object.data


async def test_two_apiservers_over_one_etcd_agree_on_objects_versions_and_order(
    etcd: EtcdCluster, tmp_path: Path
) -> None:
    # One data directory for both: the same CA, serving certificate and tokens.
    (tmp_path / "tokens.csv").write_text(
        f'admin-token-0123456789,admin,admin,"system:masters"\n{CAROL},carol,carol\n'
    )
    store = etcd.url()
    async with (
        apiserver(store, tmp_path, tmp_path / "a.kubeconfig") as config_a,
        apiserver(store, tmp_path, tmp_path / "b.kubeconfig") as config_b,
        HttpClient.from_kubeconfig(config_a) as a,
        HttpClient.from_kubeconfig(config_b) as b,
    ):
        assert a._http.base_url != b._http.base_url
        start = await b.list(ConfigMap, "default")
        watch = await b.watch(ConfigMap, "default", start.resource_version)
        expected = []
        for i in range(12):
            created = await a.create(
                ConfigMap(
                    metadata=ObjectMeta(name=f"cm-{i}", namespace="default"), data={"i": f"{i}"}
                )
            )
            expected.append(("ADDED", f"cm-{i}", created.metadata.resource_version, {"i": f"{i}"}))
        changed = msgspec.structs.replace(created, data={"i": "changed"})
        updated = await a.update(changed)
        expected.append(("MODIFIED", "cm-11", updated.metadata.resource_version, {"i": "changed"}))
        deleted = await a.delete(ConfigMap, "cm-3", "default")
        expected.append(("DELETED", "cm-3", deleted.metadata.resource_version, {"i": "3"}))
        seen: list[tuple[str, str, str, dict[str, str]]] = []
        with anyio.fail_after(30):
            async for batch in watch:
                seen += [_summary(event) for event in batch]
                if len(seen) >= len(expected):
                    break
        watch.close()
        assert seen == expected
        versions = [int(version) for _, _, version, _ in seen]
        assert versions == sorted(versions)
        # Both servers list the same objects at the same versions.
        listed_a, listed_b = await a.list(ConfigMap, "default"), await b.list(ConfigMap, "default")
        assert [(c.metadata.name, c.metadata.resource_version) for c in listed_a.items] == [
            (c.metadata.name, c.metadata.resource_version) for c in listed_b.items
        ]
        assert len(listed_b.items) == 11
        # So does kubectl, through the other server.
        result = await anyio.run_process(
            [KUBECTL, "--kubeconfig", str(config_b), "get", "configmaps", "cm-11", "-o", "json"]
        )
        assert json.loads(result.stdout)["metadata"]["resourceVersion"] == (
            updated.metadata.resource_version
        )
        # A Role written through one server authorises requests to the other.
        async with HttpClient(str(b._http.base_url), token=CAROL, verify=False) as carol:
            with pytest.raises(ApiError) as refused:
                await carol.get(ConfigMap, "cm-0", "default")
            assert refused.value.code == 403
            await a.create(
                Role(
                    metadata=ObjectMeta(name="cm-reader", namespace="default"),
                    rules=[PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get"])],
                )
            )
            await a.create(
                RoleBinding(
                    metadata=ObjectMeta(name="carol-reads", namespace="default"),
                    subjects=[Subject(kind="User", name="carol")],
                    role_ref=RoleRef(kind="Role", name="cm-reader"),
                )
            )
            with anyio.fail_after(10):
                while True:
                    try:
                        found = await carol.get(ConfigMap, "cm-0", "default")
                    except ApiError as error:
                        if error.code != 403:
                            raise
                        await anyio.sleep(0.05)
                    else:
                        break
            assert found.data == {"i": "0"}

        # A CRD created through one server is served by the other.
        (tmp_path / "crd.yaml").write_text(WIDGET_CRD_YAML)
        (tmp_path / "widget.yaml").write_text(WIDGET)
        await _kubectl(config_a, "apply", "-f", str(tmp_path / "crd.yaml"))
        await _kubectl(config_a, "wait", "--for=condition=Established", "crd/widgets.example.com")
        with anyio.fail_after(20):
            while True:
                result = await anyio.run_process(
                    [
                        KUBECTL,
                        "--kubeconfig",
                        str(config_b),
                        "apply",
                        "-f",
                        str(tmp_path / "widget.yaml"),
                    ],
                    check=False,
                )
                if result.returncode == 0:
                    break
                await anyio.sleep(0.2)
        assert result.stdout.decode().strip() == "widget.example.com/w1 created"
        size = await _kubectl(config_a, "get", "widget", "w1", "-o", "jsonpath={.spec.size}")
        assert size == "3"


async def _kubectl(kubeconfig: Path, *args: str) -> str:
    result = await anyio.run_process([KUBECTL, "--kubeconfig", str(kubeconfig), *args], check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()
