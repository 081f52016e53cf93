"""`kubectl logs`: the pods/log subresource asks the pod's node for its container's lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeactors.api import ApiError
from kubeactors.http import LogRequest

from .harness import KUBECTL, pod, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")


class Kubelets:
    """Stands in for the nodes: remembers what was asked, answers from `lines`."""

    def __init__(self) -> None:
        self.asked: list[LogRequest] = []
        self.lines = ["starting", "listening on :80", "ready"]

    async def __call__(self, request: LogRequest) -> list[str]:
        self.asked.append(request)
        if request.previous:
            raise ApiError.not_found("pods", request.pod)
        lines = self.lines if request.tail is None else self.lines[-request.tail :]
        return [f"2026-01-01T00:00:00Z {line}" for line in lines] if request.timestamps else lines


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
