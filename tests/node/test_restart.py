"""A kubelet that restarts adopts what its runtime still runs; deletion is graceful."""

from pathlib import Path

from kubeactors.api import Pod
from kubeactors.node.runtime import ContainerState

from ..api.harness import running_api, wait_for
from ._nodes import Nodes, bound_pod, eventually, replace_meta, wait_for_pod


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
        await eventually(lambda: len(runtime.list_pod_sandboxes()) == 1)  # orphan removed
        [container] = runtime.list_containers()
        assert container.state is ContainerState.RUNNING
        pod = await h.client.get(Pod, "a", "default")
        status = pod.status.container_statuses[0]
        assert (pod.status.pod_ip, status.container_id) == before["a"]
        assert status.restart_count == 0


async def test_deletion_stops_the_containers_gracefully_then_removes_the_pod(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as h:
        nodes = Nodes(h)
        nodes.start(0)
        # A finalizer holds the object once deleted, so its deletionTimestamp is seen.
        pod = replace_meta(bound_pod("doomed"), finalizers=["test.kubeactors.io/hold"])
        await h.client.create(pod)
        await wait_for_pod(h, "doomed", lambda p: p.status.phase == "Running")
        runtime = nodes.runtimes["node-0"]
        assert len(runtime.list_containers()) == 1
        await h.client.delete(Pod, "doomed", "default")
        marked = await wait_for_pod(
            h, "doomed", lambda p: p.metadata.deletion_timestamp is not None
        )
        await eventually(lambda: not runtime.list_pod_sandboxes())
        assert runtime.list_containers() == []
        await h.client.update(replace_meta(marked, finalizers=[]))
        await wait_for(h.client, Pod, lambda pods: not pods)
