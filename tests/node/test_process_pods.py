"""Real processes as pods: a web server reached through a Service via kube-proxy."""

import sys
from pathlib import Path

import anyio
import httpx
import msgspec

from kubeactors.actors import ActorRef
from kubeactors.api import (
    ApiError,
    Container,
    ContainerPort,
    Endpoint,
    EndpointConditions,
    EndpointSlice,
    EndpointSlicePort,
    EnvVar,
    EnvVarSource,
    HTTPGetAction,
    ObjectFieldSelector,
    ObjectMeta,
    Pod,
    Probe,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubeactors.node import ReadLogs
from kubeactors.node.proxy import SERVICE_NAME_LABEL, KubeProxy, ServiceTable, loopback_address

from ..api.harness import Harness, running_api, wait_for
from ._nodes import FAST, Nodes, bound_pod

SERVER = """
import http.server, os, sys
name = os.environ["POD_NAME"]
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
print("serving", name, "on", os.environ["POD_IP"], flush=True)
http.server.HTTPServer((os.environ["POD_IP"], 8080), Hello).serve_forever()
"""


def _field(name: str, path: str) -> EnvVar:
    return EnvVar(
        name=name, value_from=EnvVarSource(field_ref=ObjectFieldSelector(field_path=path))
    )


def _web_pod(name: str) -> Pod:
    container = Container(
        name="web",
        image="python",
        command=[sys.executable, "-u", "-c", SERVER],
        env=[_field("POD_IP", "status.podIP"), _field("POD_NAME", "metadata.name")],
        ports=[ContainerPort(container_port=8080, name="http")],
        readiness_probe=Probe(http_get=HTTPGetAction(port="http", path="/"), period_seconds=1),
    )
    return bound_pod(name, containers=[container], termination_grace_period_seconds=5)


def _ready(pod: Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


async def _endpoints(h: Harness, pods: list[Pod]) -> None:
    """What the endpoints controller would write: the ready pods' addresses."""
    endpoint_slice = EndpointSlice(
        metadata=ObjectMeta(name="web-1", namespace="default", labels={SERVICE_NAME_LABEL: "web"}),
        endpoints=[
            Endpoint(addresses=[pod.status.pod_ip], conditions=EndpointConditions(ready=True))
            for pod in pods
        ],
        ports=[EndpointSlicePort(name="", port=8080, protocol="TCP")],
    )
    try:
        current = await h.client.get(EndpointSlice, "web-1", "default")
    except ApiError:
        await h.client.create(endpoint_slice)
        return
    meta = msgspec.structs.replace(
        endpoint_slice.metadata, resource_version=current.metadata.resource_version
    )
    await h.client.update(msgspec.structs.replace(endpoint_slice, metadata=meta))


async def _get(http: httpx.AsyncClient, url: str) -> str:
    for _ in range(200):
        try:
            response = await http.get(url)
        except httpx.TransportError:
            await anyio.sleep(0.05)
            continue
        return response.text
    raise AssertionError(f"nothing answered at {url}")


async def test_a_service_balances_over_two_process_replicas_and_follows_changes(
    tmp_path: Path,
) -> None:
    settings = msgspec.structs.replace(FAST, runtime="process", root_dir=str(tmp_path / "nodes"))
    async with running_api(tmp_path) as h:
        nodes = Nodes(h, settings)
        nodes.start(0)
        table = ServiceTable(h.system.clock.now)
        proxy: ActorRef[None] = h.system.spawn(
            lambda: KubeProxy(h.client, table, listen=True), name="kube-proxy"
        )
        try:
            for name in ("web-0", "web-1"):
                await h.client.create(_web_pod(name))
            pods = await wait_for(
                h.client, Pod, lambda pods: len(pods) == 2 and all(map(_ready, pods))
            )
            assert all(p.status.pod_ip.startswith("127.0.1.") for p in pods)
            service = await h.client.create(
                Service(
                    metadata=ObjectMeta(name="web", namespace="default"),
                    spec=ServiceSpec(
                        cluster_ip="10.96.0.10", ports=[ServicePort(port=80, target_port=8080)]
                    ),
                )
            )
            await _endpoints(h, pods)
            url = f"http://{loopback_address(service.spec.cluster_ip)}:80/"
            async with httpx.AsyncClient(timeout=5) as http:
                answers = [await _get(http, url) for _ in range(6)]
                assert set(answers) == {"web-0", "web-1"}
                assert table.resolve("web", 80).port == 8080
                # web-1 leaves: first its endpoint (as the endpoints controller does
                # when a pod starts terminating), then the pod itself.
                await _endpoints(h, [p for p in pods if p.metadata.name == "web-0"])
                answers = []
                for _ in range(40):
                    answers.append(await _get(http, url))
                    if answers[-3:] == ["web-0"] * 3:
                        break
                await h.client.delete(Pod, "web-1", "default")
                after = [await _get(http, url) for _ in range(6)]
            assert after == ["web-0"] * 6
            logs: list[str] = await nodes.kubelets["node-0"].ask(
                lambda reply: ReadLogs(namespace="default", pod="web-0", reply=reply)
            )
            web_0 = next(p for p in pods if p.metadata.name == "web-0")
            assert logs == ["serving web-0 on " + web_0.status.pod_ip]
        finally:
            await proxy.stop()
            for runtime in nodes.runtimes.values():
                await runtime.close()
