"""kubectl against a whole served cluster: Deployments rolled out, undone and drained."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeactors.api import Deployment
from kubeactors.cluster import Cluster

from .harness import KUBECTL, Served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.26
"""


async def test_rollout_status_undo_wait_and_drain(tmp_path: Path) -> None:
    async with Cluster(nodes=2, serve=True, data_dir=tmp_path / "cluster") as cluster:
        assert cluster.server is not None
        api = Served(cluster.client, cluster.server, tmp_path / "kubectl-cache")
        manifest = tmp_path / "web.yaml"
        manifest.write_text(DEPLOYMENT)
        status, out, err = await api.kubectl("apply", "--server-side", "-f", str(manifest))
        assert status == 0, err
        status, out, err = await api.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
        assert (status, out.strip()) == (0, 'deployment "web" successfully rolled out'), err
        status, out, err = await api.kubectl(
            "wait", "--for=condition=Ready", "pods", "-l", "app=web", "--timeout=60s"
        )
        assert status == 0, err
        assert len(out.splitlines()) == 3

        status, out, err = await api.kubectl("set", "image", "deployment/web", "nginx=nginx:1.27")
        assert status == 0, err
        status, out, err = await api.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
        assert status == 0, err
        status, out, err = await api.kubectl("rollout", "undo", "deployment/web")
        assert (status, out.strip()) == (0, "deployment.apps/web rolled back"), err
        status, out, err = await api.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
        assert status == 0, err
        deployment = await cluster.client.get(Deployment, "web")
        assert deployment.spec.template.spec.containers[0].image == "nginx:1.26"

        status, out, err = await api.kubectl(
            "drain", "node-0", "--ignore-daemonsets", "--timeout=60s"
        )
        assert status == 0, err
        assert "node/node-0 drained" in out
        status, out, err = await api.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
        assert status == 0, err
        live = [p for p in await cluster.pods() if p.metadata.deletion_timestamp is None]
        assert len(live) == 3
        assert {p.spec.node_name for p in live} == {"node-1"}
