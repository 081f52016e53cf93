"""A kubelet that restarts adopts what its runtime still runs; deletion is graceful."""

from pathlib import Path

from kubeactors.api import Pod, format_time
from kubeactors.node.runtime import ContainerState

from ..api.harness import FIXED_TIME, running_api, wait_for
from ._nodes import Nodes, bound_pod, replace_meta, wait_for_pod


async def test_a_restarted_kubelet_adopts_its_running_pods(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        nodes = Nodes(h)
        first = nodes.start(0)
        for name in ("a", "b"):
            await h.client.create(bound_pod(name))
        pods = await wait_for(
            h.client, Pod, lambda pods: all(p.status.phase == "Running" for p in pods)
        )
        before = {
            p.metadata.name: (p.status.pod_ip, p.status.container_statuses[0].container_id)
            for p in pods
        }
        runtime = nodes.runtimes["node-0"]
        await first.stop()
        # While the kubelet is away, one pod is deleted: its sandbox is an orphan.
        await h.client.delete(Pod, "b", "default")
        nodes.start(0)
        await wait_for(h.client, Pod, lambda pods: [p.metadata.name for p in pods] == ["a"])
        await wait_for_pod(h, "a", lambda p: p.status.phase == "Running")
        for _ in range(100):  # the orphan is removed in the background
            if len(runtime.list_pod_sandboxes()) == 1:
                break
            await wait_for_pod(h, "a", lambda p: True)
        assert len(runtime.list_pod_sandboxes()) == 1
        [container] = runtime.list_containers()
        assert container.state is ContainerState.RUNNING
        pod = await h.client.get(Pod, "a", "default")
        status = pod.status.container_statuses[0]
        assert (pod.status.pod_ip, status.container_id) == before["a"]
        assert status.restart_count == 0


async def test_graceful_deletion_stops_the_containers_then_removes_the_pod(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        nodes = Nodes(h)
        nodes.start(0)
        await h.client.create(bound_pod("doomed", termination_grace_period_seconds=5))
        pod = await wait_for_pod(h, "doomed", lambda p: p.status.phase == "Running")
        # What the API server does on DELETE of a pod bound to a node: mark it.
        marked = replace_meta(
            pod, deletion_timestamp=format_time(FIXED_TIME), deletion_grace_period_seconds=5
        )
        await h.client.update(marked)
        await wait_for(h.client, Pod, lambda pods: not pods)
        runtime = nodes.runtimes["node-0"]
        assert runtime.list_pod_sandboxes() == []
        assert runtime.list_containers() == []
