"""kubectl's server-side apply, field selectors, cordon and delete against a served API."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeactors.api import ConfigMap, Deployment, Node, ObjectMeta, Pod

from .harness import KUBECTL, pod, ready_node, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app: web}
data:
  mode: fast
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
"""


async def test_server_side_apply_creates_then_merges(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        manifest = tmp_path / "config.yaml"
        manifest.write_text(CONFIG + "---\n" + DEPLOYMENT)
        status, out, err = await api.kubectl("apply", "--server-side", "-f", str(manifest))
        assert status == 0, err
        assert out.splitlines() == [
            "configmap/settings serverside-applied",
            "deployment.apps/web serverside-applied",
        ]
        assert (await api.client.get(ConfigMap, "settings")).data == {"mode": "fast"}

        # Another writer adds a key; the next apply keeps it and changes its own.
        current = await api.client.get(ConfigMap, "settings")
        await api.client.update(
            type(current)(metadata=current.metadata, data={**current.data, "extra": "kept"})
        )
        manifest.write_text(
            CONFIG.replace("mode: fast", "mode: safe")
            + "---\n"
            + DEPLOYMENT.replace("replicas: 2", "replicas: 3")
        )
        status, out, err = await api.kubectl("apply", "--server-side", "-f", str(manifest))
        assert status == 0, err
        assert (await api.client.get(ConfigMap, "settings")).data == {
            "mode": "safe",
            "extra": "kept",
        }
        deployment = await api.client.get(Deployment, "web")
        assert deployment.spec.replicas == 3
        assert [c.image for c in deployment.spec.template.spec.containers] == ["nginx:1.27"]


def _owners(obj: ConfigMap | Deployment) -> dict[str, str]:
    """Each manager's operation and FieldsV1 tree, compactly."""
    return {
        entry.manager: f"{entry.operation} {entry.fields_v1}"
        for entry in obj.metadata.managed_fields
    }


async def test_apply_conflicts_with_another_manager_until_forced(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        manifest = tmp_path / "web.yaml"
        manifest.write_text(DEPLOYMENT)
        status, _, err = await api.kubectl("apply", "--server-side", "-f", str(manifest))
        assert status == 0, err
        created = await api.client.get(Deployment, "web")
        assert [(e.manager, e.operation) for e in created.metadata.managed_fields] == [
            ("kubectl", "Apply")
        ]
        assert "'f:replicas': {}" in _owners(created)["kubectl"]

        # Another manager setting a field to another value is refused, naming the field.
        manifest.write_text(DEPLOYMENT.replace("replicas: 2", "replicas: 5"))
        status, _, err = await api.kubectl(
            "apply", "--server-side", "--field-manager", "ops", "-f", str(manifest)
        )
        assert status != 0
        assert 'conflict with "kubectl": .spec.replicas' in err
        unchanged = await api.client.get(Deployment, "web")
        assert unchanged.spec.replicas == 2
        assert unchanged.metadata.resource_version == created.metadata.resource_version

        # Forced, it takes the field over; fields applied with the same value are shared.
        status, _, err = await api.kubectl(
            "apply",
            "--server-side",
            "--field-manager",
            "ops",
            "--force-conflicts",
            "-f",
            str(manifest),
        )
        assert status == 0, err
        forced = await api.client.get(Deployment, "web")
        assert forced.spec.replicas == 5
        owners = _owners(forced)
        assert "f:replicas" in owners["ops"]
        assert "f:replicas" not in owners["kubectl"]
        assert "f:image" in owners["ops"]
        assert "f:image" in owners["kubectl"]


async def test_apply_removes_what_it_no_longer_applies(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        manifest = tmp_path / "config.yaml"
        manifest.write_text(CONFIG.replace("mode: fast", "mode: fast\n  level: high"))
        status, _, err = await api.kubectl("apply", "--server-side", "-f", str(manifest))
        assert status == 0, err
        # `kubectl label` is an Update: that manager owns the label it added.
        status, _, err = await api.kubectl("label", "configmap", "settings", "team=core")
        assert status == 0, err
        labelled = await api.client.get(ConfigMap, "settings")
        assert "f:team" in _owners(labelled)["kubectl-label"]

        manifest.write_text(CONFIG.replace("  labels: {app: web}\n", ""))
        status, _, err = await api.kubectl("apply", "--server-side", "-f", str(manifest))
        assert status == 0, err
        applied = await api.client.get(ConfigMap, "settings")
        # Its own label and key are gone; the label another manager owns stays.
        assert applied.data == {"mode": "fast"}
        assert applied.metadata.labels == {"team": "core"}


async def test_field_selectors_and_label_sets(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await api.client.create(pod("a", node="node-1", app="web"))
        await api.client.create(pod("b", node="node-2", app="web"))
        await api.client.create(pod("c", node="node-1", app="db"))
        status, out, err = await api.kubectl(
            "get", "pods", "--field-selector", "spec.nodeName=node-1", "-o", "name"
        )
        assert status == 0, err
        assert sorted(out.split()) == ["pod/a", "pod/c"]
        status, out, err = await api.kubectl(
            "get",
            "pods",
            "--field-selector",
            "spec.nodeName!=node-1",
            "-l",
            "app=web",
            "-o",
            "name",
        )
        assert status == 0, err
        assert out.split() == ["pod/b"]
        status, out, err = await api.kubectl("get", "pods", "-l", "app in (db,cache)", "-o", "name")
        assert out.split() == ["pod/c"], err


async def test_cordon_and_uncordon_a_node(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await api.client.create(ready_node("node-1"))
        status, out, err = await api.kubectl("cordon", "node-1")
        assert (status, out.strip()) == (0, "node/node-1 cordoned"), err
        assert (await api.client.get(Node, "node-1")).spec.unschedulable is True
        status, out, err = await api.kubectl("get", "nodes")
        assert "Ready,SchedulingDisabled" in out, err
        status, out, err = await api.kubectl("uncordon", "node-1")
        assert (status, out.strip()) == (0, "node/node-1 uncordoned"), err
        assert not (await api.client.get(Node, "node-1")).spec.unschedulable


async def test_delete_by_label_and_with_each_cascade_mode(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        for name in ("a", "b", "c"):
            await api.client.create(pod(name, app="web" if name != "c" else "db"))
        status, out, err = await api.kubectl("delete", "pods", "-l", "app=web")
        assert status == 0, err
        assert sorted(out.splitlines()) == ['pod "a" deleted', 'pod "b" deleted']
        assert [p.metadata.name for p in (await api.client.list(Pod)).items] == ["c"]

        # No garbage collector runs here, so the finalizer each mode asks for stays.
        for name in ("orphaned", "foreground", "background"):
            await api.client.create(ConfigMap(metadata=ObjectMeta(name=name)))
        for mode in ("orphan", "foreground", "background"):
            name = "orphaned" if mode == "orphan" else mode
            status, out, err = await api.kubectl(
                "delete", "configmap", name, f"--cascade={mode}", "--wait=false"
            )
            assert (status, out.strip()) == (0, f'configmap "{name}" deleted'), err
        remaining = {
            c.metadata.name: c.metadata.finalizers for c in (await api.client.list(ConfigMap)).items
        }
        assert remaining["orphaned"] == ["orphan"]
        assert remaining["foreground"] == ["foregroundDeletion"]
        assert "background" not in remaining
