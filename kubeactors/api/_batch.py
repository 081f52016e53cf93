"""batch/v1 Job: pods run to completion, retried up to a back-off limit."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import WireStruct
from ._meta import ApiObject, LabelSelector, ObjectMeta
from ._pod import PodTemplateSpec

__all__ = [
    "CONTROLLER_UID_LABEL",
    "JOB_NAME_LABEL",
    "Job",
    "JobCondition",
    "JobSpec",
    "JobStatus",
]

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
"""The label that the generated selector of a Job matches: the Job's UID."""

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


class JobSpec(WireStruct, frozen=True):
    """What to run and how often: `completions` pods must succeed, at most
    `parallelism` at once; more than `backoffLimit` failures fail the Job."""

    parallelism: int | None = None
    completions: int | None = None
    active_deadline_seconds: int | None = None
    backoff_limit: int | None = None
    selector: LabelSelector | None = None
    manual_selector: bool | None = None
    template: PodTemplateSpec = msgspec.field(default_factory=PodTemplateSpec)
    ttl_seconds_after_finished: int | None = None
    completion_mode: Literal["", "NonIndexed", "Indexed"] = ""
    suspend: bool | None = None


class JobCondition(WireStruct, frozen=True):
    type: str
    status: Literal["True", "False", "Unknown"]
    last_probe_time: str | None = None
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


class JobStatus(WireStruct, frozen=True):
    conditions: list[JobCondition] = msgspec.field(default_factory=list)
    start_time: str | None = None
    completion_time: str | None = None
    active: int = 0
    succeeded: int = 0
    failed: int = 0
    ready: int | None = None


class Job(ApiObject, frozen=True):
    api_version: str = "batch/v1"
    kind: str = "Job"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: JobSpec = msgspec.field(default_factory=JobSpec)
    status: JobStatus = msgspec.field(default_factory=JobStatus)
