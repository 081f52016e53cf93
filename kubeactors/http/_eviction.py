"""The `pods/<name>/eviction` subresource: delete a pod unless its disruption budget
forbids it (what `kubectl drain` uses).

As upstream's: a pod that is Pending, finished or already being deleted goes at once;
otherwise the one PodDisruptionBudget that selects it must allow a disruption, which
the eviction takes (`disruptionsAllowed` less one, the pod in `disruptedPods`) in a
conditional write before deleting the pod, so two evictions never both spend the
last allowance. A budget that allows none answers 429, which kubectl retries.
The caller needs `create` on `pods/eviction`; the budget's status is written by the
server itself, as upstream's API server does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec

from ..api import (
    ApiError,
    Eviction,
    Pod,
    PodDisruptionBudget,
    ResourceAttributes,
    SelfSubjectAccessReview,
    SelfSubjectAccessReviewSpec,
    SelfSubjectReview,
    Status,
    StatusCause,
    StatusDetails,
    format_time,
)
from ..client import Client
from ..controllers import budget_selects, is_ready
from ._errors import bad_request

__all__ = ["evict"]

# As upstream's EvictionsRetry: a budget written meanwhile (by the disruption
# controller, or another eviction) is read again, up to 20 times, half a second apart.
_RETRIES = 20
_RETRY_PAUSE = 0.5
_MAX_DISRUPTED = 2000
_VERSIONS = ("policy/v1", "policy/v1beta1")
_VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


def _eviction(raw: Any, name: str) -> Eviction:
    try:
        eviction = msgspec.convert(raw, Eviction)
    except msgspec.ValidationError as error:
        raise bad_request(f"the body of the request is not an Eviction: {error}") from None
    if eviction.kind != "Eviction" or eviction.api_version not in _VERSIONS:
        raise bad_request(
            f"the body of the request must be a policy/v1 Eviction, "
            f"not {eviction.api_version} {eviction.kind}"
        )
    if eviction.metadata.name and eviction.metadata.name != name:
        raise bad_request("name in URL does not match name in Eviction object")
    return eviction


async def _authorize(caller: Client, namespace: str, name: str) -> None:
    attributes = ResourceAttributes(
        namespace=namespace, verb="create", resource="pods", subresource="eviction", name=name
    )
    review = await caller.create(
        SelfSubjectAccessReview(spec=SelfSubjectAccessReviewSpec(resource_attributes=attributes))
    )
    if review.status is not None and review.status.allowed:
        return
    who = await caller.create(SelfSubjectReview())
    user = who.status.user_info.username if who.status is not None else ""
    raise ApiError.forbidden(
        "pods",
        name,
        f'User "{user}" cannot create resource "pods/eviction" in API group "" '
        f'in the namespace "{namespace}"',
    )


def _too_many_requests(message: str) -> ApiError:
    return ApiError(
        Status(
            message=_VIOLATION,
            reason="TooManyRequests",
            code=429,
            details=StatusDetails(causes=[StatusCause(reason="DisruptionBudget", message=message)]),
        )
    )


def _budget_of(pod: Pod, budgets: list[PodDisruptionBudget]) -> PodDisruptionBudget | None:
    selecting = [budget for budget in budgets if budget_selects(budget, pod)]
    if len(selecting) > 1:
        raise ApiError(
            Status(
                message="This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support.",
                reason="InternalError",
                code=500,
            )
        )
    return selecting[0] if selecting else None


def _spend(budget: PodDisruptionBudget, pod: Pod, now: datetime) -> PodDisruptionBudget | None:
    """The budget with this eviction spent, None when the pod may go without spending
    (it is not healthy and the budget's policy lets unhealthy pods go); refuses when
    the budget allows no disruption."""
    status = budget.status
    name = budget.metadata.name
    if status.observed_generation < budget.metadata.generation:
        raise _too_many_requests(
            f"The disruption budget {name} is still being processed by the server."
        )
    if not is_ready(pod):
        policy = budget.spec.unhealthy_pod_eviction_policy
        if policy == "AlwaysAllow" or status.current_healthy >= status.desired_healthy > 0:
            return None
    if status.disruptions_allowed < 0:
        raise ApiError.forbidden("pods", pod.metadata.name, "pdb disruptions allowed is negative")
    if len(status.disrupted_pods) > _MAX_DISRUPTED:
        raise ApiError.forbidden(
            "pods",
            pod.metadata.name,
            "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        )
    if status.disruptions_allowed == 0:
        raise _too_many_requests(
            f"The disruption budget {name} needs {status.desired_healthy} healthy pods "
            f"and has {status.current_healthy} currently"
        )
    spent = msgspec.structs.replace(
        status,
        disruptions_allowed=status.disruptions_allowed - 1,
        disrupted_pods={**status.disrupted_pods, pod.metadata.name: format_time(now)},
    )
    return msgspec.structs.replace(budget, status=spent)


async def evict(
    caller: Client,
    server: Client,
    namespace: str,
    name: str,
    raw: Any,
    now: datetime,
    sleep: Callable[[float], Awaitable[None]],
) -> Status:
    """Evict pod `name` as `caller` asks; `server` (the API server's own client)
    reads the pod and its budgets and writes them; `sleep` (the clock's) paces the
    retries after a conflict. Returns the Status of success."""
    eviction = _eviction(raw, name)
    if caller is not server:
        await _authorize(caller, namespace, name)
    options = eviction.delete_options
    dry_run = options is not None and "All" in options.dry_run
    for attempt in range(_RETRIES):
        pod = await server.get(Pod, name, namespace)
        exempt = (
            pod.status.phase in ("Pending", "Succeeded", "Failed")
            or pod.metadata.deletion_timestamp is not None
        )
        if not exempt:
            budgets = (await server.list(PodDisruptionBudget, namespace)).items
            budget = _budget_of(pod, budgets)
            spent = _spend(budget, pod, now) if budget is not None else None
            if spent is not None and not dry_run:
                try:
                    await server.update_status(spent)
                except ApiError as error:
                    if error.code == 409 and attempt < _RETRIES - 1:
                        await sleep(_RETRY_PAUSE)
                        continue  # the budget changed since it was read: look again
                    raise
        if not dry_run:
            preconditions = options.preconditions if options is not None else None
            await server.delete(
                Pod,
                name,
                namespace,
                grace_period_seconds=options.grace_period_seconds if options else None,
                propagation_policy=(options.propagation_policy or "") if options else "",
                precondition_uid=(preconditions.uid or "") if preconditions else "",
                precondition_resource_version=(
                    (preconditions.resource_version or "") if preconditions else ""
                ),
            )
        return Status(status="Success", code=201, details=StatusDetails(name=name, kind="pods"))
    raise ApiError.conflict("poddisruptionbudgets", "", "too many evictions at once; retry")
