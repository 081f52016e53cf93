"""`kubectl logs`: the pods/log subresource asks the pod's node for its container's lines."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from kubeactors.api import ApiError, Container, EnvVar, ObjectMeta, Pod, PodSpec
from kubeactors.cluster import Cluster
from kubeactors.http import LogLines, LogRequest
from kubeactors.node import NodeSettings

from .harness import KUBECTL, Served, pod, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")


class Kubelets:
    """Stands in for the nodes: remembers what was asked, answers from `lines`."""

    def __init__(self) -> None:
        self.asked: list[LogRequest] = []
        self.lines = ["starting", "listening on :80", "ready"]

    async def __call__(self, request: LogRequest) -> LogLines:
        self.asked.append(request)
        if request.previous:
            raise ApiError.not_found("pods", request.pod)
        lines = self.lines if request.tail is None else self.lines[-request.tail :]
        if request.timestamps:
            lines = [f"2026-01-01T00:00:00Z {line}" for line in lines]
        if request.follow:
            return self._follow(lines)
        return lines

    async def _follow(self, lines: list[str]) -> AsyncIterator[list[str]]:
        yield lines[:1]
        yield []  # nothing new this time
        yield lines[1:]


async def test_logs_reach_the_node_of_the_pod(tmp_path: Path) -> None:
    kubelets = Kubelets()
    async with served(tmp_path, logs=kubelets) as api:
        await api.client.create(pod("web", "team", node="node-2"))
        status, out, err = await api.kubectl("logs", "-n", "team", "web")
        assert (status, out) == (0, "starting\nlistening on :80\nready\n"), err
        status, out, err = await api.kubectl(
            "logs", "-n", "team", "web", "-c", "app", "--tail=1", "--timestamps"
        )
        assert (status, out) == (0, "2026-01-01T00:00:00Z ready\n"), err
        assert kubelets.asked == [
            # kubectl names the container itself when the pod has only one.
            LogRequest(namespace="team", pod="web", node="node-2", container="app"),
            LogRequest(
                namespace="team", pod="web", node="node-2", container="app", tail=1, timestamps=True
            ),
        ]


async def test_logs_of_pods_that_have_none(tmp_path: Path) -> None:
    kubelets = Kubelets()
    async with served(tmp_path, logs=kubelets) as api:
        await api.client.create(pod("pending"))
        status, _, err = await api.kubectl("logs", "pending")
        assert status == 1
        assert 'pod "pending" is not scheduled yet' in err
        status, _, err = await api.kubectl("logs", "missing")
        assert status == 1
        assert 'pods "missing" not found' in err
        assert kubelets.asked == []


async def test_following_streams_every_batch(tmp_path: Path) -> None:
    kubelets = Kubelets()
    async with served(tmp_path, logs=kubelets) as api:
        await api.client.create(pod("web", "team", node="node-2"))
        status, out, err = await api.kubectl("logs", "-f", "-n", "team", "web", "--tail=2")
        assert (status, out) == (0, "listening on :80\nready\n"), err
        assert kubelets.asked[-1].follow


# Prints a line, waits for the test to create `release`, prints another, and ends.
STEPS = """
import os, pathlib, time
print("first", flush=True)
while not pathlib.Path(os.environ["RELEASE"]).exists():
    time.sleep(0.05)
print("second", flush=True)
"""


async def test_kubectl_follows_a_process_pod_until_it_ends(tmp_path: Path) -> None:
    settings = NodeSettings(runtime="process", root_dir=str(tmp_path / "nodes"))
    release = tmp_path / "release"
    async with Cluster(
        nodes=1,
        node_settings=settings,
        serve=True,
        controllers=False,
        data_dir=tmp_path / "cluster",
    ) as cluster:
        assert cluster.server is not None
        api = Served(cluster.client, cluster.server, tmp_path / "kubectl-cache")
        container = Container(
            name="steps",
            image="python",
            command=[sys.executable, "-u", "-c", STEPS],
            env=[EnvVar(name="RELEASE", value=str(release))],
        )
        await cluster.client.create(
            Pod(
                metadata=ObjectMeta(name="steps", namespace="default"),
                spec=PodSpec(containers=[container], node_name="node-0", restart_policy="Never"),
            )
        )
        status, _, err = await api.kubectl(
            "wait", "--for=jsonpath={.status.phase}=Running", "pod/steps", "--timeout=30s"
        )
        assert status == 0, err
        command = [
            KUBECTL,
            "--kubeconfig",
            str(cluster.server.kubeconfig),
            "--cache-dir",
            str(api.cache_dir),
            "logs",
            "-f",
            "steps",
        ]
        received = b""
        with anyio.fail_after(30):
            async with await anyio.open_process(command) as kubectl:
                assert kubectl.stdout is not None
                # The container prints "second" only once it sees `release`, which
                # is made only after "first" came through: so it came while running.
                while b"first\n" not in received:
                    received += await kubectl.stdout.receive()
                release.touch()
                async for chunk in kubectl.stdout:
                    received += chunk
            assert await kubectl.wait() == 0
        assert received == b"first\nsecond\n"


async def test_a_follower_that_leaves_stops_the_stream(tmp_path: Path) -> None:
    closed = anyio.Event()

    async def endless(request: LogRequest) -> LogLines:
        async def lines() -> AsyncIterator[list[str]]:
            try:
                yield ["first"]
                await anyio.sleep_forever()  # the container writes nothing more
            finally:
                closed.set()

        return lines()

    async with served(tmp_path, logs=endless) as api:
        await api.client.create(pod("web", node="node-0"))
        command = [
            KUBECTL,
            "--kubeconfig",
            str(api.server.kubeconfig),
            "--cache-dir",
            str(api.cache_dir),
            "logs",
            "-f",
            "web",
        ]
        with anyio.fail_after(30):
            async with await anyio.open_process(command) as kubectl:
                assert kubectl.stdout is not None
                assert await kubectl.stdout.receive() == b"first\n"
                kubectl.kill()  # the client goes away mid-stream
            await closed.wait()  # and the server lets go of the log


async def test_limit_bytes_ends_the_log_mid_line(tmp_path: Path) -> None:
    async with served(tmp_path, logs=Kubelets()) as api:
        await api.client.create(pod("web", node="node-0"))
        status, out, err = await api.kubectl("logs", "web", "--limit-bytes=12")
        assert (status, out) == (0, "starting\nlis"), err
        # Followed, the stream ends once the limit is reached, within a batch.
        status, out, err = await api.kubectl("logs", "-f", "web", "--limit-bytes=12")
        assert (status, out) == (0, "starting\nlis"), err


async def test_since_reaches_the_node(tmp_path: Path) -> None:
    kubelets = Kubelets()
    async with served(tmp_path, logs=kubelets) as api:
        await api.client.create(pod("web", node="node-0"))
        status, _, err = await api.kubectl("logs", "web", "--since=90s")
        assert status == 0, err
        assert (kubelets.asked[-1].since_seconds, kubelets.asked[-1].since_time) == (90, None)
        status, _, err = await api.kubectl("logs", "web", "--since-time=2026-01-01T00:00:00Z")
        assert status == 0, err
        assert (kubelets.asked[-1].since_seconds, kubelets.asked[-1].since_time) == (
            None,
            1_767_225_600.0,
        )


async def test_log_options_out_of_range_are_refused_by_field(tmp_path: Path) -> None:
    kubelets = Kubelets()
    async with served(tmp_path, logs=kubelets) as api:
        await api.client.create(pod("web", node="node-0"))
        path = "/api/v1/namespaces/default/pods/web/log?"
        refusals = {
            "limitBytes=0": 'PodLogOptions "web" is invalid: limitBytes: Invalid value: 0: '
            "must be greater than 0",
            "sinceSeconds=0": "sinceSeconds: Invalid value: 0: must be greater than 0",
            "tailLines=-1": "tailLines: Invalid value: -1: must be greater than or equal to 0",
            "sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z": (
                "at most one of `sinceTime` or `sinceSeconds` may be specified"
            ),
            "sinceTime=yesterday": "sinceTime: Invalid value: 'yesterday': must be an RFC 3339",
            "limitBytes=many": "limitBytes: Invalid value: 'many': must be an integer",
        }
        for query, message in refusals.items():
            status, _, err = await api.kubectl("get", "--raw", path + query)
            assert status == 1
            assert message in err, (query, err)
        assert kubelets.asked == []


async def test_kubectl_since_on_a_simulated_node(tmp_path: Path) -> None:
    async with Cluster(
        nodes=1, serve=True, controllers=False, data_dir=tmp_path / "cluster"
    ) as cluster:
        assert cluster.server is not None
        api = Served(cluster.client, cluster.server, tmp_path / "kubectl-cache")
        await cluster.client.create(pod("web", node="node-0"))
        status, _, err = await api.kubectl(
            "wait", "--for=jsonpath={.status.phase}=Running", "pod/web", "--timeout=30s"
        )
        assert status == 0, err
        status, out, err = await api.kubectl("logs", "web", "--since=1h")
        assert (status, out) == (0, "simulated container app started\n"), err
        status, out, err = await api.kubectl("logs", "web", "--since-time=2099-01-01T00:00:00Z")
        assert (status, out) == (0, ""), err
