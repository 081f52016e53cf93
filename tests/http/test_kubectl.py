"""The real kubectl against a served API: each command as a user would type it."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import msgspec
import pytest
import yaml

from kubeactors.api import Pod
from kubeactors.http import SERVER_VERSION

from .harness import KUBECTL, pod, ready_node, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80}]
    resources: {requests: {cpu: 100m, memory: 64Mi}}
"""


async def test_version_reports_the_release_kubectl_picks(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        version = await api.kubectl_json("version")
        assert version["serverVersion"]["gitVersion"] == SERVER_VERSION["gitVersion"]
        assert version["clientVersion"]["minor"] == SERVER_VERSION["minor"]


async def test_get_nodes_prints_upstream_columns(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        for index in range(3):
            await api.client.create(ready_node(f"node-{index}"))
        await api.client.create(
            ready_node("master", **{"node-role.kubernetes.io/control-plane": ""})
        )
        status, out, err = await api.kubectl("get", "nodes")
        assert status == 0, err
        lines = [line.split() for line in out.strip().splitlines()]
        assert lines[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
        rows = {line[0]: line[1:3] for line in lines[1:]}
        assert rows == {
            "master": ["Ready", "control-plane"],
            "node-0": ["Ready", "<none>"],
            "node-1": ["Ready", "<none>"],
            "node-2": ["Ready", "<none>"],
        }


async def test_get_pods_in_all_namespaces_wide(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await api.client.create(pod("a", "default", node="node-1"))
        await api.client.create(pod("b", "team", node="node-2"))
        await api.client.create(pod("c", "team"))
        status, out, err = await api.kubectl("get", "pods", "-A", "-o", "wide")
        assert status == 0, err
        lines = [line.split() for line in out.strip().splitlines()]
        assert lines[0][:3] == ["NAMESPACE", "NAME", "READY"]
        assert "NODE" in lines[0]
        node_column = lines[0].index("NODE")
        assert {(line[0], line[1], line[node_column]) for line in lines[1:]} == {
            ("default", "a", "node-1"),
            ("team", "b", "node-2"),
            ("team", "c", "<none>"),
        }
        status, out, _ = await api.kubectl("get", "pods", "-n", "team", "-o", "name")
        assert sorted(out.split()) == ["pod/b", "pod/c"]


async def test_create_apply_get_and_delete_a_manifest(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        manifest = tmp_path / "pod.yaml"
        manifest.write_text(MANIFEST)
        status, out, err = await api.kubectl("create", "-f", str(manifest))
        assert (status, out.strip()) == (0, "pod/web created"), err
        stored = await api.client.get(Pod, "web")
        assert stored.spec.containers[0].image == "nginx:1.27"

        as_json = await api.kubectl_json("get", "pod", "web")
        assert as_json["metadata"]["labels"] == {"app": "web"}
        assert as_json["metadata"]["resourceVersion"] == stored.metadata.resource_version

        manifest.write_text(MANIFEST.replace("{app: web}", "{app: web, tier: front}"))
        status, out, err = await api.kubectl("apply", "-f", str(manifest))
        assert (status, out.strip()) == (0, "pod/web configured"), err
        status, out, err = await api.kubectl("get", "pod", "web", "-o", "yaml")
        assert status == 0, err
        assert yaml.safe_load(out)["metadata"]["labels"] == {"app": "web", "tier": "front"}

        status, out, err = await api.kubectl("delete", "pod", "web")
        assert (status, out.strip()) == (0, 'pod "web" deleted'), err
        status, out, err = await api.kubectl("get", "pod", "web")
        assert status == 1
        assert err.strip() == 'Error from server (NotFound): pods "web" not found'


async def test_apply_creates_and_label_patches(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        manifest = tmp_path / "pod.yaml"
        manifest.write_text(MANIFEST)
        status, out, err = await api.kubectl("apply", "-f", str(manifest))
        assert (status, out.strip()) == (0, "pod/web created"), err
        status, out, err = await api.kubectl("label", "pod", "web", "tier=back")
        assert (status, out.strip()) == (0, "pod/web labeled"), err
        status, out, err = await api.kubectl("annotate", "pod", "web", "note=hello")
        assert status == 0, err
        stored = await api.client.get(Pod, "web")
        assert stored.metadata.labels == {"app": "web", "tier": "back"}
        assert stored.metadata.annotations["note"] == "hello"
        status, out, _ = await api.kubectl("get", "pods", "-l", "tier=back", "-o", "name")
        assert out.split() == ["pod/web"]
        status, out, _ = await api.kubectl("get", "pods", "-l", "tier=front", "-o", "name")
        assert out.split() == []


async def test_strict_validation_refuses_unknown_fields(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        manifest = tmp_path / "pod.yaml"
        manifest.write_text(MANIFEST.replace("  containers:", "  bogusField: 1\n  containers:"))
        status, _, err = await api.kubectl("create", "-f", str(manifest))
        assert status == 1
        assert 'unknown field "spec.bogusField"' in err
        assert (await api.client.list(Pod)).items == []


async def test_get_watch_sees_a_change(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await api.client.create(pod("watched"))
        command = [
            KUBECTL,
            "--kubeconfig",
            str(api.server.kubeconfig),
            "--cache-dir",
            str(api.cache_dir),
            "get",
            "pods",
            "--watch",
            "--output-watch-events",
        ]
        seen: list[str] = []
        with anyio.fail_after(60):
            async with await anyio.open_process(command) as process:
                assert process.stdout is not None
                buffered = b""
                changed = False
                async for chunk in process.stdout:
                    buffered += chunk
                    *lines, rest = buffered.split(b"\n")
                    buffered = rest
                    seen += [line.decode() for line in lines if line.strip()]
                    if (
                        any(line.split()[:2] == ["ADDED", "watched"] for line in seen)
                        and not changed
                    ):
                        current = await api.client.get(Pod, "watched")
                        running = msgspec.structs.replace(
                            current, status=msgspec.structs.replace(current.status, phase="Running")
                        )
                        await api.client.update(running)
                        changed = True
                    if any(line.split()[:2] == ["MODIFIED", "watched"] for line in seen):
                        break
                process.terminate()
        modified = next(line.split() for line in seen if line.startswith("MODIFIED"))
        assert "Running" in modified


async def test_api_resources_lists_kinds_with_short_names(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        status, out, err = await api.kubectl("api-resources")
        assert status == 0, err
        rows = {line.split()[0]: line.split() for line in out.strip().splitlines()[1:]}
        assert rows["pods"] == ["pods", "po", "v1", "true", "Pod"]
        assert rows["nodes"] == ["nodes", "no", "v1", "false", "Node"]
        status, out, err = await api.kubectl("get", "po")
        assert status == 0, err


async def test_describe_node_shows_its_pods(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await api.client.create(ready_node("node-0", zone="a"))
        await api.client.create(pod("here", node="node-0"))
        await api.client.create(pod("elsewhere", node="node-1"))
        status, out, err = await api.kubectl("describe", "node", "node-0")
        assert status == 0, err
        fields = {
            line.split(":", 1)[0]: line.split(":", 1)[1].strip()
            for line in out.splitlines()
            if ":" in line and not line.startswith(" ")
        }
        assert fields["Name"] == "node-0"
        assert fields["Labels"] == "zone=a"
        assert "Non-terminated Pods" in out
        assert "here" in out
        assert "elsewhere" not in out


async def test_explain_reads_the_openapi_schema(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        status, out, err = await api.kubectl("explain", "pod.spec.containers")
        assert status == 0, err
        assert "FIELD: containers <[]Container>" in out
        assert "image\t<string>" in out


async def test_a_wrong_token_is_refused(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        status, _, err = await api.kubectl("get", "pods", token="not-the-token")
        assert status == 1
        # kubectl words a 401 by where it met it (discovery, or the request).
        assert "error: You must be logged in to the server" in err


async def test_raw_metrics_count_requests(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await api.kubectl("get", "pods")
        status, out, err = await api.kubectl("get", "--raw", "/metrics")
        assert status == 0, err
        counted = [line for line in out.splitlines() if line.startswith("apiserver_request_total{")]
        assert any('resource="pods"' in line and 'code="200"' in line for line in counted)
        parsed = json.loads((await api.kubectl("get", "--raw", "/version"))[1])
        assert parsed["gitVersion"] == SERVER_VERSION["gitVersion"]


WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""


async def test_deployment_and_service_apply_get_and_scale(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        manifest = tmp_path / "web.yaml"
        manifest.write_text(WORKLOAD)
        status, out, err = await api.kubectl("apply", "-f", str(manifest))
        assert status == 0, err
        assert out.split("\n")[:2] == ["deployment.apps/web created", "service/web created"]

        status, out, err = await api.kubectl("get", "deployments", "-o", "wide")
        assert status == 0, err
        header, row = (line.split() for line in out.strip().splitlines())
        assert header[:5] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        assert row[:2] == ["web", "0/2"]
        assert row[-3:] == ["nginx", "nginx:1.27", "app=web"]

        status, out, err = await api.kubectl("get", "svc", "web")
        assert status == 0, err
        header, row = (line.split() for line in out.strip().splitlines())
        assert header == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
        assert row[1] == "ClusterIP"
        assert row[4] == "80/TCP"

        status, out, err = await api.kubectl("scale", "deployment", "web", "--replicas=5")
        assert (status, out.strip()) == (0, "deployment.apps/web scaled"), err
        status, out, err = await api.kubectl(
            "get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale"
        )
        scale = json.loads(out)
        assert scale["spec"]["replicas"] == 5

        status, out, err = await api.kubectl("create", "namespace", "team")
        assert (status, out.strip()) == (0, "namespace/team created"), err
        status, out, err = await api.kubectl("get", "ns", "team")
        assert out.split()[-3:-1] == ["team", "Active"], err


async def test_create_and_list_service_accounts(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        status, out, err = await api.kubectl("create", "serviceaccount", "builder")
        assert (status, out) == (0, "serviceaccount/builder created\n"), err
        status, out, err = await api.kubectl("get", "sa")
        assert status == 0, err
        assert out.split("\n")[0].split() == ["NAME", "SECRETS", "AGE"]
        assert out.split("\n")[1].split()[:2] == ["builder", "0"]
        account = await api.kubectl_json("get", "serviceaccount", "builder")
        assert (account["kind"], account["metadata"]["namespace"]) == ("ServiceAccount", "default")


async def test_create_and_list_jobs(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        status, out, err = await api.kubectl("create", "job", "once", "--image=busybox")
        assert (status, out) == (0, "job.batch/once created\n"), err
        status, out, err = await api.kubectl("get", "jobs")
        assert status == 0, err
        header, row = out.split("\n")[:2]
        assert header.split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
        assert row.split()[:3] == ["once", "Running", "0/1"]
        job = await api.kubectl_json("get", "job", "once")
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        assert job["spec"]["selector"]["matchLabels"] == {
            "batch.kubernetes.io/controller-uid": job["metadata"]["uid"]
        }
