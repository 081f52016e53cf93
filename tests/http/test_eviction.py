"""`pods/<name>/eviction`: kubectl drain waits for disruption budgets, as upstream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeactors.api import Pod
from kubeactors.cluster import Cluster

from .harness import KUBECTL, Served, pod, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  %s
  selector: {matchLabels: {app: web}}
"""


def _eviction(name: str) -> str:
    return json.dumps({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}})


async def _served_cluster(cluster: Cluster, tmp_path: Path, budget: str) -> Served:
    assert cluster.server is not None
    api = Served(cluster.client, cluster.server, tmp_path / "kubectl-cache")
    manifest = tmp_path / "web.yaml"
    manifest.write_text(WEB % budget)
    status, _, err = await api.kubectl("apply", "-f", str(manifest))
    assert status == 0, err
    status, _, err = await api.kubectl(
        "wait", "--for=jsonpath={.status.readyReplicas}=4", "deployment/web", "--timeout=60s"
    )
    assert status == 0, err
    return api


async def test_drain_evicts_within_the_budget(tmp_path: Path) -> None:
    async with Cluster(nodes=2, serve=True, data_dir=tmp_path / "cluster") as cluster:
        api = await _served_cluster(cluster, tmp_path, "maxUnavailable: 1")
        status, _, err = await api.kubectl(
            "wait", "--for=jsonpath={.status.disruptionsAllowed}=1", "pdb/web", "--timeout=30s"
        )
        assert status == 0, err
        status, out, err = await api.kubectl(
            "drain", "node-0", "--ignore-daemonsets", "--timeout=120s"
        )
        assert status == 0, err
        assert "node/node-0 drained" in out
        status, _, err = await api.kubectl(
            "wait", "--for=jsonpath={.status.readyReplicas}=4", "deployment/web", "--timeout=60s"
        )
        assert status == 0, err
        live = [p for p in await cluster.pods() if p.metadata.deletion_timestamp is None]
        assert {p.spec.node_name for p in live} == {"node-1"}
        status, out, err = await api.kubectl("get", "pdb", "web")
        assert status == 0, err
        assert out.split("\n")[0].split() == [
            "NAME",
            "MIN",
            "AVAILABLE",
            "MAX",
            "UNAVAILABLE",
            "ALLOWED",
            "DISRUPTIONS",
            "AGE",
        ]


async def test_a_budget_that_allows_nothing_refuses_with_429(tmp_path: Path) -> None:
    async with Cluster(nodes=2, serve=True, data_dir=tmp_path / "cluster") as cluster:
        api = await _served_cluster(cluster, tmp_path, 'minAvailable: "100%"')
        status, _, err = await api.kubectl(
            "wait", "--for=jsonpath={.status.currentHealthy}=4", "pdb/web", "--timeout=30s"
        )
        assert status == 0, err
        victim = next(p.metadata.name for p in await cluster.pods() if p.spec.node_name)
        body = tmp_path / "eviction.json"
        body.write_text(_eviction(victim))
        path = f"/api/v1/namespaces/default/pods/{victim}/eviction"
        status, _, err = await api.kubectl("create", "--raw", path, "-f", str(body))
        assert status == 1
        assert "Cannot evict pod as it would violate the pod's disruption budget" in err
        status, _, err = await api.kubectl("drain", "node-0", "--timeout=6s")
        assert status == 1
        assert "disruption budget" in err
        assert len(await cluster.pods()) == 4  # nothing was deleted


async def test_eviction_needs_its_own_permission(tmp_path: Path) -> None:
    async with served(tmp_path, users={"bob-token": "bob"}) as api:
        await api.client.create(pod("web", node="node-0"))
        body = tmp_path / "eviction.json"
        body.write_text(_eviction("web"))
        path = "/api/v1/namespaces/default/pods/web/eviction"
        raw = ("create", "--raw", path, "-f", str(body))
        status, _, err = await api.kubectl(*raw, token="bob-token")
        assert status == 1
        assert 'User "bob" cannot create resource "pods/eviction"' in err
        body.write_text(_eviction("other"))
        status, _, err = await api.kubectl(*raw)
        assert status == 1
        assert "name in URL does not match name in Eviction object" in err
        body.write_text(_eviction("web"))
        status, _, err = await api.kubectl(
            "create", "rolebinding", "bob-edits", "--clusterrole=edit", "--user=bob"
        )
        assert status == 0, err
        status, out, err = await api.kubectl(*raw, token="bob-token")
        assert status == 0, err
        assert json.loads(out)["status"] == "Success"
        assert (await api.client.list(Pod)).items == []
