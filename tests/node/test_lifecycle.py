"""A pod's life on a simulated node: each phase, each way of failing."""

from pathlib import Path

from kubeactors.api import Container, ExecAction, Pod, Probe

from ..api.harness import running_api
from ._nodes import Nodes, bound_pod, wait_for_pod

SIM = "sim.kubeactors.io/"


def _conditions(pod: Pod) -> dict[str, str]:
    return {c.type: c.status for c in pod.status.conditions}


async def test_a_batch_pod_succeeds(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        pod = bound_pod("job", restart_policy="Never", annotations={SIM + "run-seconds": "0.2"})
        await h.client.create(pod)
        running = await wait_for_pod(h, "job", lambda p: p.status.phase == "Running")
        assert running.status.container_statuses[0].state.running is not None
        done = await wait_for_pod(h, "job", lambda p: p.status.phase == "Succeeded")
        [status] = done.status.container_statuses
        terminated = status.state.terminated
        assert terminated is not None
        assert (terminated.exit_code, terminated.reason) == (0, "Completed")
        assert terminated.container_id == status.container_id
        assert not status.ready
        ready = next(c for c in done.status.conditions if c.type == "Ready")
        assert (ready.status, ready.reason) == ("False", "PodCompleted")


async def test_a_failing_pod_under_never_fails(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        annotations = {SIM + "run-seconds": "0.1", SIM + "exit-code": "3"}
        await h.client.create(bound_pod("bad", restart_policy="Never", annotations=annotations))
        failed = await wait_for_pod(h, "bad", lambda p: p.status.phase == "Failed")
        terminated = failed.status.container_statuses[0].state.terminated
        assert terminated is not None
        assert (terminated.exit_code, terminated.reason) == (3, "Error")
        assert failed.status.container_statuses[0].restart_count == 0


async def test_a_crashing_container_backs_off_and_restarts(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        annotations = {SIM + "failure-probability": "1"}
        await h.client.create(bound_pod("crash", annotations=annotations))
        looping = await wait_for_pod(
            h,
            "crash",
            lambda p: (
                bool(p.status.container_statuses)
                and p.status.container_statuses[0].state.waiting is not None
                and p.status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
            ),
        )
        status = looping.status.container_statuses[0]
        assert status.last_state.terminated is not None
        assert status.last_state.terminated.exit_code == 1
        assert status.restart_count >= 1
        assert looping.status.phase == "Running"  # restartPolicy Always: it will run again
        assert _conditions(looping)["Ready"] == "False"
        await wait_for_pod(h, "crash", lambda p: p.status.container_statuses[0].restart_count >= 3)


async def test_on_failure_restarts_a_failure_but_not_a_success(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        containers = [Container(name="ok", image="x"), Container(name="flaky", image="x")]
        annotations = {
            SIM + "run-seconds": "0.1",
            SIM + "flaky.exit-code": "2",
        }
        await h.client.create(
            bound_pod(
                "mixed", containers=containers, restart_policy="OnFailure", annotations=annotations
            )
        )
        pod = await wait_for_pod(
            h,
            "mixed",
            lambda p: (
                len(p.status.container_statuses) == 2
                and p.status.container_statuses[1].restart_count >= 2
            ),
        )
        ok, _ = pod.status.container_statuses
        assert ok.restart_count == 0
        assert ok.state.terminated is not None
        assert ok.state.terminated.reason == "Completed"
        assert pod.status.phase == "Running"


async def test_init_containers_run_in_order_before_the_containers(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        init = [Container(name="first", image="x"), Container(name="second", image="x")]
        annotations = {SIM + "first.run-seconds": "0.3", SIM + "second.run-seconds": "0.3"}
        await h.client.create(bound_pod("init", init=init, annotations=annotations))
        pending = await wait_for_pod(
            h, "init", lambda p: len(p.status.init_container_statuses) == 1
        )
        assert pending.status.phase == "Pending"
        assert _conditions(pending)["Initialized"] == "False"
        assert pending.status.container_statuses[0].state.waiting is not None
        assert pending.status.container_statuses[0].state.waiting.reason == "PodInitializing"
        running = await wait_for_pod(h, "init", lambda p: p.status.phase == "Running")
        first, second = running.status.init_container_statuses
        assert first.state.terminated is not None
        assert second.state.terminated is not None
        assert first.state.terminated.finished_at is not None
        assert second.state.terminated.started_at is not None
        assert first.state.terminated.finished_at <= second.state.terminated.started_at
        assert _conditions(running)["Initialized"] == "True"


async def test_a_failed_init_container_fails_the_pod_under_never(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        init = [Container(name="setup", image="x")]
        annotations = {SIM + "setup.run-seconds": "0", SIM + "setup.exit-code": "1"}
        await h.client.create(
            bound_pod("broken", init=init, restart_policy="Never", annotations=annotations)
        )
        failed = await wait_for_pod(h, "broken", lambda p: p.status.phase == "Failed")
        assert failed.status.container_statuses[0].state.running is None


async def test_an_image_that_cannot_be_pulled_backs_off(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        containers = [Container(name="app", image="invalid/nothing")]
        await h.client.create(bound_pod("nopull", containers=containers))
        seen: set[str] = set()

        def waiting(pod: Pod) -> bool:
            for status in pod.status.container_statuses:
                if status.state.waiting is not None:
                    seen.add(status.state.waiting.reason)
            return {"ErrImagePull", "ImagePullBackOff"} <= seen

        pod = await wait_for_pod(h, "nopull", waiting)
        assert pod.status.phase == "Pending"


async def test_scripted_readiness_and_liveness(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        Nodes(h).start(0)
        annotations = {
            SIM + "ready-after-seconds": "0.3",
            SIM + "liveness-fails-after-seconds": "1.5",
        }
        fast = Probe(exec=ExecAction(command=["true"]), period_seconds=1, failure_threshold=1)
        containers = [Container(name="app", image="x", readiness_probe=fast, liveness_probe=fast)]
        await h.client.create(bound_pod("probed", containers=containers, annotations=annotations))
        unready = await wait_for_pod(h, "probed", lambda p: p.status.phase == "Running")
        assert _conditions(unready)["Ready"] == "False"
        await wait_for_pod(h, "probed", lambda p: _conditions(p)["Ready"] == "True")
        restarted = await wait_for_pod(
            h, "probed", lambda p: p.status.container_statuses[0].restart_count >= 1
        )
        assert restarted.status.container_statuses[0].last_state.terminated is not None
