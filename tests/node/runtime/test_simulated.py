import asyncio

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.node.runtime import (
    ContainerConfig,
    ContainerEvent,
    ContainerState,
    ImageError,
    RuntimeFailure,
    SandboxConfig,
    SimulatedProfile,
    SimulatedRuntime,
    resolve_profile,
)

from ...actors._fakes import FakeClock, settle

SANDBOX = SandboxConfig(name="web", namespace="default", uid="u1")


def _runtime(clock: FakeClock, **profiles: SimulatedProfile) -> SimulatedRuntime:
    return SimulatedRuntime(node="n0", clock=clock, profiles=profiles, seed=1)


async def _started(runtime: SimulatedRuntime, config: ContainerConfig) -> str:
    sandbox = await runtime.run_pod_sandbox(SANDBOX)
    await runtime.pull_image(config.image, SANDBOX)
    ident = await runtime.create_container(sandbox, config)
    await runtime.start_container(ident)
    return ident


async def test_a_batch_container_completes_after_its_run_time() -> None:
    clock = FakeClock()
    runtime = _runtime(clock, job=SimulatedProfile(run_seconds=30))
    events: list[ContainerEvent] = []
    runtime.listener = events.append
    ident = await _started(runtime, ContainerConfig(name="c", image="job:1"))
    status = runtime.container_status(ident)
    assert status.state is ContainerState.RUNNING
    assert status.image_ref.startswith("job:1@sha256:")
    await clock.advance(29)
    assert runtime.container_status(ident).state is ContainerState.RUNNING
    assert events == []
    await clock.advance(1)
    status = runtime.container_status(ident)
    assert (status.state, status.exit_code, status.reason) == (
        ContainerState.EXITED,
        0,
        "Completed",
    )
    assert events == [ContainerEvent("STOPPED", ident, status.sandbox_id)]


async def test_pull_and_start_take_their_time_on_the_clock() -> None:
    clock = FakeClock()
    runtime = _runtime(clock, slow=SimulatedProfile(pull_seconds=5, start_seconds=2))
    sandbox = await runtime.run_pod_sandbox(SANDBOX)
    done: list[str] = []

    async def pull_and_start() -> None:
        await runtime.pull_image("slow", SANDBOX)
        done.append("pulled")
        ident = await runtime.create_container(sandbox, ContainerConfig(name="c", image="slow"))
        await runtime.start_container(ident)
        done.append("started")

    async with anyio.create_task_group() as group:
        group.start_soon(pull_and_start)
        await settle()
        assert done == []
        await clock.advance(5)
        assert done == ["pulled"]
        await clock.advance(2)
        assert done == ["pulled", "started"]
    # The image is cached: a second pull is immediate.
    assert (await runtime.pull_image("slow", SANDBOX)).startswith("slow@")


async def test_annotations_override_the_image_profile_per_container() -> None:
    clock = FakeClock()
    runtime = _runtime(clock)
    annotations = {
        "sim.kubeactors.io/run-seconds": "10",
        "sim.kubeactors.io/worker.exit-code": "3",
    }
    main = await _started(runtime, ContainerConfig(name="main", image="x", annotations=annotations))
    worker = await _started(
        runtime, ContainerConfig(name="worker", image="x", annotations=annotations)
    )
    await clock.advance(10)
    assert runtime.container_status(main).exit_code == 0
    failed = runtime.container_status(worker)
    assert (failed.exit_code, failed.reason) == (3, "Error")


async def test_a_bad_annotation_is_a_config_error_naming_it() -> None:
    runtime = _runtime(FakeClock())
    sandbox = await runtime.run_pod_sandbox(SANDBOX)
    config = ContainerConfig(
        name="c", image="x", annotations={"sim.kubeactors.io/run-seconds": "soon"}
    )
    with pytest.raises(RuntimeFailure, match=r"sim\.kubeactors\.io/run-seconds") as caught:
        await runtime.create_container(sandbox, config)
    assert caught.value.reason == "CreateContainerConfigError"
    bad = ContainerConfig(
        name="c", image="x", annotations={"sim.kubeactors.io/failure-probability": "2"}
    )
    with pytest.raises(RuntimeFailure, match="failure_probability"):
        await runtime.create_container(sandbox, bad)


async def test_a_missing_image_fails_to_pull() -> None:
    runtime = _runtime(FakeClock())
    with pytest.raises(ImageError) as caught:
        await runtime.pull_image("invalid/nothing", SANDBOX)
    assert caught.value.reason == "ErrImagePull"


async def test_stop_is_sigterm_and_remove_forgets() -> None:
    runtime = _runtime(FakeClock())
    ident = await _started(runtime, ContainerConfig(name="c", image="x"))
    await runtime.stop_container(ident, 30)
    status = runtime.container_status(ident)
    assert (status.state, status.exit_code) == (ContainerState.EXITED, 143)
    assert runtime.read_logs(ident, tail=1) == ["exited with code 143"]
    sandbox = status.sandbox_id
    await runtime.remove_pod_sandbox(sandbox)
    assert runtime.list_containers() == []
    assert runtime.list_pod_sandboxes() == []


async def test_scripted_probes() -> None:
    clock = FakeClock()
    profile = SimulatedProfile(ready_after_seconds=3, liveness_fails_after_seconds=10)
    runtime = _runtime(clock, app=profile)
    ident = await _started(runtime, ContainerConfig(name="c", image="app"))
    assert runtime.probe(ident, "readiness") is False
    assert runtime.probe(ident, "liveness") is True
    await clock.advance(3)
    assert runtime.probe(ident, "readiness") is True
    await clock.advance(7)
    assert runtime.probe(ident, "liveness") is False


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000), probability=st.floats(0, 1))
def test_failures_replay_from_the_seed(seed: int, probability: float) -> None:
    async def outcomes() -> list[int]:
        clock = FakeClock()
        runtime = SimulatedRuntime(
            node="n",
            clock=clock,
            profiles={"*": SimulatedProfile(failure_probability=probability)},
            seed=seed,
        )
        idents = [
            await _started(runtime, ContainerConfig(name=f"c{i}", image="x")) for i in range(20)
        ]
        await clock.advance(0)
        return [runtime.container_status(i).exit_code for i in idents]

    first = asyncio.run(outcomes())
    assert first == asyncio.run(outcomes())
    if probability == 0:
        assert set(first) == {0}
    if probability == 1:
        assert set(first) == {1}


def test_profiles_are_found_by_image_without_tag_then_wildcard() -> None:
    profiles = {"nginx": SimulatedProfile(start_seconds=1), "*": SimulatedProfile(start_seconds=2)}
    assert resolve_profile(profiles, "nginx:1.25", "c", {}).start_seconds == 1
    assert resolve_profile(profiles, "registry:5000/other", "c", {}).start_seconds == 2
    with pytest.raises(ValueError, match="pull_seconds"):
        SimulatedProfile(pull_seconds=-1)


async def test_following_a_simulated_log_ends_with_the_container() -> None:
    clock = FakeClock()
    runtime = _runtime(clock, job=SimulatedProfile(run_seconds=30, exit_code=2))
    ident = await _started(runtime, ContainerConfig(name="c", image="job:1"))
    batches = runtime.follow_logs(ident)
    assert await batches.__anext__() == ["simulated container c started"]
    rest: list[list[str]] = []

    async def collect() -> None:
        rest.extend([batch async for batch in batches])

    async with anyio.create_task_group() as group:
        group.start_soon(collect)
        await settle()
        await clock.advance(29)
        assert rest == []  # still running: the follower waits
        await clock.advance(1.5)
    assert rest == [["exited with code 2"]]
