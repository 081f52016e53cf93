"""`pods/<name>/eviction`: kubectl drain waits for disruption budgets, as upstream."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from kubeactors.api import (
    ApiError,
    LabelSelector,
    ObjectList,
    ObjectMeta,
    Pod,
    PodCondition,
    PodDisruptionBudget,
    PodDisruptionBudgetSpec,
    PodDisruptionBudgetStatus,
    PodStatus,
)
from kubeactors.client import Client
from kubeactors.cluster import Cluster
from kubeactors.http._eviction import evict

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


class _Racing:
    """A server whose budget another writer changes `conflicts` times first."""

    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.deleted: list[str] = []
        self.pod = Pod(
            metadata=ObjectMeta(name="web", namespace="default", labels={"app": "web"}),
            status=PodStatus(
                phase="Running", conditions=[PodCondition(type="Ready", status="True")]
            ),
        )
        self.budget = PodDisruptionBudget(
            metadata=ObjectMeta(name="web", namespace="default", generation=1),
            spec=PodDisruptionBudgetSpec(selector=LabelSelector(match_labels={"app": "web"})),
            status=PodDisruptionBudgetStatus(observed_generation=1, disruptions_allowed=1),
        )
        self.written: list[PodDisruptionBudget] = []

    async def get(self, kind: type[Any], name: str, namespace: str) -> Any:
        return self.pod

    async def list(self, kind: type[Any], namespace: str) -> Any:
        return ObjectList(kind="PodDisruptionBudgetList", items=[self.budget])

    async def update_status(self, budget: PodDisruptionBudget) -> PodDisruptionBudget:
        if self.conflicts:
            self.conflicts -= 1
            raise ApiError.conflict("poddisruptionbudgets", "web")
        self.written.append(budget)
        return budget

    async def delete(self, kind: type[Any], name: str, namespace: str, **options: Any) -> Any:
        self.deleted.append(name)
        return self.pod


@pytest.mark.parametrize("conflicts", [0, 3, 25])
async def test_an_eviction_reads_a_changed_budget_again(conflicts: int) -> None:
    server = _Racing(conflicts)
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    client = cast(Client, server)
    body = json.loads(_eviction("web"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    if conflicts >= 20:  # upstream gives up after 20 attempts too
        with pytest.raises(ApiError) as caught:
            await evict(client, client, "default", "web", body, now, sleep)
        assert caught.value.code == 409
        assert server.deleted == []
        return
    done = await evict(client, client, "default", "web", body, now, sleep)
    assert (done.status, done.code) == ("Success", 201)
    assert pauses == [0.5] * conflicts
    [written] = server.written
    assert written.status.disruptions_allowed == 0
    assert written.status.disrupted_pods == {"web": "2026-01-01T00:00:00Z"}
    assert server.deleted == ["web"]
