"""The disruption controller: keeps each PodDisruptionBudget's status true, so that
the `pods/eviction` subresource can tell whether one more pod may go.

As upstream's: the pods a budget selects are `expectedPods` (with `maxUnavailable` or
a percentage, the replicas their controllers ask for: a ReplicaSet's, or its
Deployment's, a ReplicationController's; a pod without a controller counts as one);
`desiredHealthy` follows from `minAvailable` or `maxUnavailable` (percentages round
up); `currentHealthy` counts the Ready pods not being deleted, less those an eviction
has just taken (`disruptedPods`, forgotten once the pod is deleted or after two
minutes); `disruptionsAllowed` is what is left over.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import msgspec

from ..api import (
    Deployment,
    IntOrString,
    Pod,
    PodDisruptionBudget,
    PodDisruptionBudgetCondition,
    PodDisruptionBudgetStatus,
    ReplicaSet,
    ReplicationController,
    format_time,
    parse_time,
    selector_from_struct,
)
from ..client import Informer
from ._base import Controller
from ._pods import controller_of, is_ready

__all__ = ["DELETION_TIMEOUT", "DisruptionController", "budget_selects", "healthy_budget"]

DELETION_TIMEOUT = 120.0
"""Seconds an evicted pod counts as disrupted while it has yet to be deleted."""


def _scaled(value: IntOrString, total: int) -> int:
    """A count, or a percentage of `total` rounded up."""
    if isinstance(value, int):
        return value
    return math.ceil(int(value.rstrip("%")) * total / 100)


def budget_selects(budget: PodDisruptionBudget, pod: Pod) -> bool:
    """policy/v1: a null selector selects nothing, an empty one every pod."""
    selector = budget.spec.selector
    return selector is not None and selector_from_struct(selector).matches(pod.metadata.labels)


def healthy_budget(budget: PodDisruptionBudget, pods: int, scale: int) -> tuple[int, int]:
    """(expectedPods, desiredHealthy) for a budget selecting `pods` pods whose
    controllers ask for `scale` replicas."""
    spec = budget.spec
    if spec.max_unavailable is not None:
        return scale, max(0, scale - _scaled(spec.max_unavailable, scale))
    if isinstance(spec.min_available, str):
        return scale, _scaled(spec.min_available, scale)
    return pods, spec.min_available or 0


def _key(obj: Any) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


class DisruptionController(Controller):
    name = "disruption"
    workers = 2

    def setup(self) -> None:
        self.budgets: Informer[PodDisruptionBudget] = self.informer(PodDisruptionBudget)
        self.budgets.add_index("namespace", lambda b: [b.metadata.namespace])
        self.budgets.add_handler(
            on_add=lambda b: self.enqueue(_key(b)),
            on_update=lambda old, new: self.enqueue(_key(new)),
        )
        self.pods: Informer[Pod] = self.informer(Pod)
        self.pods.add_index("namespace", lambda p: [p.metadata.namespace])
        self.pods.add_handler(
            on_add=self._pod_changed,
            on_update=lambda old, new: self._pod_changed(new),
            on_delete=self._pod_changed,
        )
        self.replica_sets: Informer[ReplicaSet] = self.informer(ReplicaSet)
        self.replica_sets.add_index("uid", lambda r: [r.metadata.uid])
        self.deployments: Informer[Deployment] = self.informer(Deployment)
        self.deployments.add_index("uid", lambda d: [d.metadata.uid])
        self.controllers: Informer[ReplicationController] = self.informer(ReplicationController)
        self.controllers.add_index("uid", lambda c: [c.metadata.uid])

    def all_keys(self) -> list[str]:
        return [_key(budget) for budget in self.budgets.items()]

    def _pod_changed(self, pod: Pod) -> None:
        for budget in self.budgets.by_index("namespace", pod.metadata.namespace):
            self.enqueue(_key(budget))

    def _replicas(self, pod: Pod) -> tuple[str, int]:
        """The pod's top controller (its uid) and the replicas it asks for."""
        reference = controller_of(pod)
        if reference is None:
            return pod.metadata.uid, 1
        if reference.kind == "ReplicaSet":
            for replica_set in self.replica_sets.by_index("uid", reference.uid):
                owner = controller_of(replica_set)
                if owner is not None and owner.kind == "Deployment":
                    for deployment in self.deployments.by_index("uid", owner.uid):
                        return owner.uid, _replicas_of(deployment.spec.replicas)
                return reference.uid, _replicas_of(replica_set.spec.replicas)
        if reference.kind == "ReplicationController":
            for controller in self.controllers.by_index("uid", reference.uid):
                return reference.uid, _replicas_of(controller.spec.replicas)
        return pod.metadata.uid, 1

    async def sync(self, key: str) -> None:
        budget = self.budgets.get(key)
        if budget is None or budget.metadata.deletion_timestamp is not None:
            return
        pods = [
            pod
            for pod in self.pods.by_index("namespace", budget.metadata.namespace)
            if budget_selects(budget, pod)
        ]
        scales = dict(self._replicas(pod) for pod in pods)
        expected, desired = healthy_budget(budget, len(pods), sum(scales.values()))
        now = self.context.clock.wall()
        disrupted, next_expiry = self._disrupted(budget, pods, now)
        healthy = sum(
            1
            for pod in pods
            if is_ready(pod)
            and pod.metadata.deletion_timestamp is None
            and pod.metadata.name not in disrupted
        )
        allowed = max(0, healthy - desired) if expected > 0 else 0
        condition = PodDisruptionBudgetCondition(
            type="DisruptionAllowed",
            status="True" if allowed > 0 else "False",
            reason="SufficientPods" if allowed > 0 else "InsufficientPods",
            observed_generation=budget.metadata.generation,
        )
        previous = next(
            (c for c in budget.status.conditions if c.type == "DisruptionAllowed"), None
        )
        transition = (
            previous.last_transition_time
            if previous is not None and previous.status == condition.status
            else format_time(now)
        )
        status = PodDisruptionBudgetStatus(
            observed_generation=budget.metadata.generation,
            disrupted_pods=disrupted,
            disruptions_allowed=allowed,
            current_healthy=healthy,
            desired_healthy=desired,
            expected_pods=expected,
            conditions=[msgspec.structs.replace(condition, last_transition_time=transition)],
        )
        if status != budget.status:
            await self.write_status(msgspec.structs.replace(budget, status=status))
        if next_expiry is not None:
            self.queue.add_after(key, max(next_expiry, 0.0))

    def _disrupted(
        self, budget: PodDisruptionBudget, pods: list[Pod], now: datetime
    ) -> tuple[dict[str, str], float | None]:
        """The evictions still pending (pod present, not yet being deleted, evicted
        under two minutes ago), and the seconds until the first of them expires."""
        present = {pod.metadata.name for pod in pods if pod.metadata.deletion_timestamp is None}
        kept: dict[str, str] = {}
        soonest: float | None = None
        for name, stamp in budget.status.disrupted_pods.items():
            moment = parse_time(stamp)
            if name not in present or moment is None:
                continue
            left = (moment + timedelta(seconds=DELETION_TIMEOUT) - now).total_seconds()
            if left <= 0:
                continue
            kept[name] = stamp
            soonest = left if soonest is None else min(soonest, left)
        return kept, soonest


def _replicas_of(replicas: int | None) -> int:
    return 1 if replicas is None else replicas
