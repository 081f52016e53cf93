"""The Job controller: run a Job's pods until enough succeed or too many fail.

As upstream's, for non-indexed Jobs: at most `parallelism` pods at once until
`completions` have succeeded (without `completions`, until one succeeds and the rest
end); a failed pod is replaced after a back-off (10 s doubling, at most 6 minutes, from
the last failure); more than `backoffLimit` failures (container restarts count too
under `restartPolicy: OnFailure`) or a run longer than `activeDeadlineSeconds` fail the
Job and its running pods are deleted; `suspend` deletes them and waits. The count of
finished pods is read from the pods the Job owns, so a finished pod that someone
deletes is no longer counted (upstream keeps counting through a finalizer).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

import msgspec

from ..api import ApiError, Job, JobCondition, JobStatus, ObjectMeta, Pod, format_time
from ..client import Informer
from ._base import Controller
from ._expectations import Expectations
from ._pods import controller_of, is_active, is_ready, owner_reference, pod_key
from ._time import parse_time

__all__ = ["JobController", "job_backoff"]

logger = logging.getLogger(__name__)

BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 360.0


def job_backoff(failures: int) -> float:
    """Seconds to wait before replacing a pod after `failures` failures (upstream's
    pod failure back-off: 10 s doubling, at most 6 minutes)."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_INITIAL * float(2 ** (failures - 1)), BACKOFF_MAX)


def _key(job: Job) -> str:
    return f"{job.metadata.namespace}/{job.metadata.name}"


def _finished(job: Job) -> bool:
    return any(
        c.type in ("Complete", "Failed") and c.status == "True" for c in job.status.conditions
    )


def _finished_at(pod: Pod) -> datetime | None:
    latest: datetime | None = None
    for status in pod.status.container_statuses:
        terminated = status.state.terminated
        moment = parse_time(terminated.finished_at) if terminated is not None else None
        if moment is not None and (latest is None or moment > latest):
            latest = moment
    return latest


def _condition(
    conditions: list[JobCondition],
    kind: str,
    status: Literal["True", "False"],
    reason: str,
    message: str,
    now: str,
) -> list[JobCondition]:
    """`conditions` with `kind` set to `status` (its transition time kept if unchanged)."""
    index = next((i for i, c in enumerate(conditions) if c.type == kind), len(conditions))
    existing = conditions[index] if index < len(conditions) else None
    if existing is not None and existing.status == status and existing.reason == reason:
        return conditions
    transition = (
        existing.last_transition_time if existing is not None and existing.status == status else now
    )
    condition = JobCondition(
        type=kind,
        status=status,
        reason=reason,
        message=message,
        last_probe_time=now,
        last_transition_time=transition,
    )
    return [*conditions[:index], condition, *conditions[index + 1 :]]


class JobController(Controller):
    name = "job"
    workers = 4

    def setup(self) -> None:
        self.expectations = Expectations(self.context.clock)
        self.jobs: Informer[Job] = self.informer(Job)
        self.jobs.add_index("uid", lambda job: [job.metadata.uid])
        self.jobs.add_handler(
            on_add=lambda job: self.enqueue(_key(job)),
            on_update=lambda old, new: self.enqueue(_key(new)),
            on_delete=lambda job: self.expectations.forget(_key(job)),
        )
        self.pods: Informer[Pod] = self.informer(Pod)
        self.pods.add_index("job", _owning_job)
        self.pods.add_handler(
            on_add=self._pod_added,
            on_update=lambda old, new: self._pod_changed(new),
            on_delete=self._pod_deleted,
        )

    def all_keys(self) -> list[str]:
        return [_key(job) for job in self.jobs.items()]

    # -- pods name the Job to look at again --------------------------------------------

    def _job_of(self, pod: Pod) -> str | None:
        for uid in _owning_job(pod):
            for job in self.jobs.by_index("uid", uid):
                return _key(job)
        return None

    def _pod_added(self, pod: Pod) -> None:
        key = self._job_of(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.enqueue(key)

    def _pod_changed(self, pod: Pod) -> None:
        key = self._job_of(pod)
        if key is not None:
            self.enqueue(key)

    def _pod_deleted(self, pod: Pod) -> None:
        key = self._job_of(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod_key(pod))
            self.enqueue(key)

    # -- the sync ------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is None or _finished(job) or job.metadata.deletion_timestamp is not None:
            return
        if not self.expectations.satisfied(key):
            return
        pods = self.pods.by_index("job", job.metadata.uid)
        active = [pod for pod in pods if is_active(pod)]
        succeeded = sum(1 for pod in pods if pod.status.phase == "Succeeded")
        failed = sum(1 for pod in pods if pod.status.phase == "Failed")
        now = self.context.clock.wall()
        stamp = format_time(now)
        spec, status = job.spec, job.status
        conditions = list(status.conditions)
        start_time = status.start_time
        completion_time = status.completion_time
        parallelism = spec.parallelism if spec.parallelism is not None else 1
        backoff_limit = spec.backoff_limit if spec.backoff_limit is not None else 6

        failure = self._failure(job, active, failed, backoff_limit, now)
        complete = (
            succeeded >= spec.completions
            if spec.completions is not None
            else succeeded > 0 and not active
        )
        if failure is not None:
            reason, message = failure
            await self._delete(key, active)
            active = []
            conditions = _condition(conditions, "Failed", "True", reason, message, stamp)
        elif complete:
            await self._delete(key, active)
            active = []
            conditions = _condition(conditions, "Complete", "True", "", "", stamp)
            completion_time = stamp
        elif spec.suspend:
            await self._delete(key, active)
            active = []
            conditions = _condition(
                conditions, "Suspended", "True", "JobSuspended", "Job suspended", stamp
            )
            start_time = None
        else:
            if any(c.type == "Suspended" and c.status == "True" for c in conditions):
                conditions = _condition(
                    conditions, "Suspended", "False", "JobResumed", "Job resumed", stamp
                )
            start_time = start_time or stamp
            if spec.completions is not None:
                wanted = min(parallelism, spec.completions - succeeded)
            else:
                wanted = 0 if succeeded else parallelism
            active = await self._scale(key, job, active, pods, max(wanted, 0), failed, now)
            self._watch_deadline(key, job, start_time, now)
        written = JobStatus(
            conditions=conditions,
            start_time=start_time,
            completion_time=completion_time,
            active=len(active),
            succeeded=succeeded,
            failed=failed,
            ready=sum(1 for pod in active if is_ready(pod)),
        )
        if written != status:
            await self.write_status(msgspec.structs.replace(job, status=written))

    def _failure(
        self, job: Job, active: list[Pod], failed: int, backoff_limit: int, now: datetime
    ) -> tuple[str, str] | None:
        """Why the Job fails now (reason, message), or None."""
        restarts = 0
        if job.spec.template.spec.restart_policy == "OnFailure":
            restarts = sum(
                status.restart_count for pod in active for status in pod.status.container_statuses
            )
        if failed > backoff_limit or (restarts and restarts >= max(backoff_limit, 1)):
            return "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        deadline = job.spec.active_deadline_seconds
        started = parse_time(job.status.start_time)
        if (
            deadline is not None
            and started is not None
            and (now - started).total_seconds() >= deadline
        ):
            return "DeadlineExceeded", "Job was active longer than specified deadline"
        return None

    def _watch_deadline(self, key: str, job: Job, start_time: str | None, now: datetime) -> None:
        deadline = job.spec.active_deadline_seconds
        started = parse_time(start_time)
        if deadline is not None and started is not None:
            left = deadline - (now - started).total_seconds()
            self.queue.add_after(key, max(left, 0.0))

    async def _scale(
        self,
        key: str,
        job: Job,
        active: list[Pod],
        pods: list[Pod],
        wanted: int,
        failed: int,
        now: datetime,
    ) -> list[Pod]:
        if wanted < len(active):
            extra = sorted(active, key=lambda p: p.metadata.creation_timestamp or "")[wanted:]
            await self._delete(key, extra)
            return [pod for pod in active if pod not in extra]
        missing = wanted - len(active)
        if not missing:
            return active
        if failed:
            last = max((m for m in map(_finished_at, pods) if m is not None), default=None)
            if last is not None:
                wait = job_backoff(failed) - (now - last).total_seconds()
                if wait > 0:
                    self.queue.add_after(key, wait)
                    return active
        self.expectations.expect_creations(key, missing)
        template = job.spec.template
        for _ in range(missing):
            pod = Pod(
                metadata=ObjectMeta(
                    generate_name=f"{job.metadata.name}-",
                    namespace=job.metadata.namespace,
                    labels=dict(template.metadata.labels),
                    annotations=dict(template.metadata.annotations),
                    owner_references=[owner_reference(job)],
                ),
                spec=template.spec,
            )
            try:
                await self.client.create(pod)
            except ApiError:
                self.expectations.creation_observed(key)  # it will not come
                raise
        return active

    async def _delete(self, key: str, pods: list[Pod]) -> None:
        if not pods:
            return
        self.expectations.expect_deletions(key, [pod_key(pod) for pod in pods])
        for pod in pods:
            try:
                await self.client.delete(Pod, pod.metadata.name, pod.metadata.namespace)
            except ApiError as error:
                self.expectations.deletion_observed(key, pod_key(pod))
                if error.code != 404:
                    raise


def _owning_job(pod: Pod) -> list[str]:
    reference = controller_of(pod)
    if reference is None or reference.kind != "Job":
        return []
    return [reference.uid]
