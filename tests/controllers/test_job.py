"""Jobs on the virtual clock: completions with parallelism, failures with back-off,
deadlines, suspension, and what the API server checks and fills in."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    CONTROLLER_UID_LABEL,
    ApiError,
    Container,
    Job,
    JobSpec,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    parse_time,
)
from kubeactors.cluster import Cluster
from kubeactors.controllers import ControllerManagerSettings, job_backoff

from ..api.harness import running_api

SIM = "sim.kubeactors.io/"
SETTINGS = ControllerManagerSettings(controllers=("job", "garbagecollector"))


def _job(
    name: str,
    *,
    run_seconds: float = 10,
    exit_code: int = 0,
    restart_policy: str = "Never",
    **spec: object,
) -> Job:
    template = PodTemplateSpec(
        metadata=ObjectMeta(
            annotations={SIM + "run-seconds": str(run_seconds), SIM + "exit-code": str(exit_code)}
        ),
        spec=PodSpec(
            containers=[Container(name="work", image="busybox")],
            restart_policy=restart_policy,  # type: ignore[arg-type]
        ),
    )
    return Job(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=JobSpec(template=template, **spec),  # type: ignore[arg-type]
    )


def _condition(job: Job, kind: str) -> tuple[str, str] | None:
    for condition in job.status.conditions:
        if condition.type == kind and condition.status == "True":
            return condition.type, condition.reason
    return None


async def _owned(cluster: Cluster, job: Job) -> list[Pod]:
    return [
        pod
        for pod in await cluster.pods("default")
        if any(ref.uid == job.metadata.uid for ref in pod.metadata.owner_references)
    ]


async def _until(
    cluster: Cluster,
    name: str,
    done: Callable[[Job], bool],
    *,
    each_second: Callable[[list[Pod]], None] | None = None,
    limit: float = 900,
) -> Job:
    """Step the virtual clock a second at a time until the Job `done`s."""
    start = cluster.clock.now()
    while cluster.clock.now() - start < limit:
        job = await cluster.client.get(Job, name, "default")
        if each_second is not None:
            each_second(await _owned(cluster, job))
        if done(job):
            return job
        await cluster.clock.sleep(1.0)
    raise AssertionError(f"job {name} did not get there in {limit} virtual seconds")


async def test_completions_run_at_most_parallelism_at_a_time() -> None:
    async with Cluster(nodes=2, clock="virtual", controllers=SETTINGS) as cluster:
        await cluster.client.create(_job("batch", completions=5, parallelism=2))
        most = 0

        def count(pods: list[Pod]) -> None:
            nonlocal most
            running = [p for p in pods if p.status.phase not in ("Succeeded", "Failed")]
            most = max(most, len(running))

        job = await _until(
            cluster, "batch", lambda j: _condition(j, "Complete") is not None, each_second=count
        )
        assert most == 2
        assert (job.status.succeeded, job.status.failed, job.status.active) == (5, 0, 0)
        assert job.status.start_time is not None
        assert job.status.completion_time is not None
        pods = await _owned(cluster, job)
        assert sorted(p.status.phase for p in pods) == ["Succeeded"] * 5
        assert all(p.metadata.labels[CONTROLLER_UID_LABEL] == job.metadata.uid for p in pods)


async def test_failures_back_off_and_then_fail_the_job() -> None:
    async with Cluster(nodes=1, clock="virtual", controllers=SETTINGS) as cluster:
        await cluster.client.create(_job("flaky", run_seconds=1, exit_code=1, backoff_limit=2))
        job = await _until(cluster, "flaky", lambda j: _condition(j, "Failed") is not None)
        assert _condition(job, "Failed") == ("Failed", "BackoffLimitExceeded")
        assert (job.status.failed, job.status.active, job.status.succeeded) == (3, 0, 0)
        pods = sorted(await _owned(cluster, job), key=lambda p: p.status.start_time or "")
        starts = [p.status.start_time or "" for p in pods]
        assert len(starts) == 3
        # Replacements wait 10 s, then 20 s, after the failure before them.
        gaps = [_seconds(later) - _seconds(earlier) for earlier, later in pairwise(starts)]
        assert gaps[0] >= 10
        assert gaps[1] >= 20


def _seconds(stamp: str) -> float:
    moment = parse_time(stamp)
    assert moment is not None
    return moment.timestamp()


async def test_a_job_past_its_deadline_fails_and_its_pods_go() -> None:
    async with Cluster(nodes=1, clock="virtual", controllers=SETTINGS) as cluster:
        await cluster.client.create(_job("slow", run_seconds=3600, active_deadline_seconds=30))
        start = cluster.clock.now()
        job = await _until(cluster, "slow", lambda j: _condition(j, "Failed") is not None)
        assert 30 <= cluster.clock.now() - start < 40
        assert _condition(job, "Failed") == ("Failed", "DeadlineExceeded")
        await cluster.clock.sleep(60)
        left = [p for p in await _owned(cluster, job) if p.metadata.deletion_timestamp is None]
        assert left == []


async def test_suspended_jobs_wait_and_deleted_jobs_take_their_pods() -> None:
    async with Cluster(nodes=1, clock="virtual", controllers=SETTINGS) as cluster:
        await cluster.client.create(_job("held", run_seconds=3600, suspend=True))
        job = await _until(cluster, "held", lambda j: _condition(j, "Suspended") is not None)
        await cluster.clock.sleep(5)
        assert await _owned(cluster, job) == []
        job = await cluster.client.get(Job, "held", "default")
        resumed = msgspec.structs.replace(job.spec, suspend=False)
        await cluster.client.update(msgspec.structs.replace(job, spec=resumed))
        job = await _until(cluster, "held", lambda j: j.status.active == 1)
        assert _condition(job, "Suspended") is None
        await cluster.client.delete(Job, "held", "default")
        for _ in range(120):
            if not await _owned(cluster, job):
                break
            await cluster.clock.sleep(1)
        assert await _owned(cluster, job) == []


async def test_the_api_server_fills_in_the_selector_and_checks_the_spec(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        created = await h.client.create(_job("fill"))
        spec = created.spec
        assert (spec.completions, spec.parallelism, spec.backoff_limit) == (1, 1, 6)
        assert spec.selector is not None
        assert spec.selector.match_labels == {CONTROLLER_UID_LABEL: created.metadata.uid}
        labels = spec.template.metadata.labels
        assert labels["batch.kubernetes.io/job-name"] == "fill"
        assert labels["job-name"] == "fill"
        refusals = {
            "spec.template.spec.restartPolicy": _job("always", restart_policy="Always"),
            "spec.completionMode": _job("indexed", completion_mode="Indexed"),
            "spec.backoffLimit": _job("negative", backoff_limit=-1),
            "spec.activeDeadlineSeconds": _job("zero", active_deadline_seconds=0),
        }
        for field, job in refusals.items():
            with pytest.raises(ApiError) as caught:
                await h.client.create(job)
            assert caught.value.code == 422
            assert field in caught.value.status.message
        assert [j.metadata.name for j in (await h.client.list(Job)).items] == ["fill"]


@given(st.integers(0, 40))
def test_the_back_off_doubles_from_ten_seconds_to_six_minutes(failures: int) -> None:
    wait = job_backoff(failures)
    assert wait == (0 if failures == 0 else min(10 * 2 ** (failures - 1), 360))
    assert job_backoff(failures + 1) >= wait
