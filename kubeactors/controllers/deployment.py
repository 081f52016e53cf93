"""The Deployment controller: ReplicaSets per pod template, rolled from old to new.

Per Deployment, a sync reads its ReplicaSets (by controller reference) and their pods
from the caches and takes one step: scale proportionally if `replicas` changed
mid-rollout; else roll: RollingUpdate scales the new ReplicaSet up while the total
stays within `replicas + maxSurge` (counting pods that still exist as well as specs)
and old ones down while availability stays above `replicas - maxUnavailable`;
Recreate scales every old ReplicaSet to zero, waits for their pods to go, then scales
the new one up. A paused Deployment only scales. Then it prunes ReplicaSets beyond
`revisionHistoryLimit` and writes status with the Available and Progressing
conditions (`progressDeadlineSeconds`). `rollback` rolls back as `kubectl rollout
undo` does, by copying an old revision's template.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import msgspec

from .._mypyc import mypyc_attr
from ..api import (
    ApiError,
    Deployment,
    DeploymentCondition,
    DeploymentStatus,
    ObjectMeta,
    Pod,
    ReplicaSet,
    ReplicaSetSpec,
)
from ..client import Client, Informer
from ._base import Controller
from ._labels import selector_is_empty
from ._owned import EVERY_POD, OwnedPods, controller_uid
from ._pods import controller_of, is_active, is_available, owner_reference
from ._rollout import (
    DESIRED_REPLICAS_ANNOTATION,
    HASH_LABEL,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    desired_replicas,
    max_surge_and_unavailable,
    new_replica_set_replicas,
    proportional_shares,
    revision_of,
    template_hash,
    templates_equal_ignoring_hash,
)
from ._time import format_time, parse_time

__all__ = ["DeploymentController", "rollback"]

logger = logging.getLogger(__name__)

DEFAULT_REVISION_HISTORY = 10
DEFAULT_PROGRESS_DEADLINE = 600


def _key(obj: Any) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def _replicas(rs: ReplicaSet) -> int:
    return rs.spec.replicas or 0


@mypyc_attr(allow_interpreted_subclasses=True)
class DeploymentController(Controller):
    name = "deployment"
    workers = 4

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self._written: dict[str, int] = {}

    def setup(self) -> None:
        self.deployments: Informer[Deployment] = self.informer(Deployment)
        self.deployments.add_index("uid", lambda d: [d.metadata.uid])
        self.deployments.add_handler(
            on_add=lambda d: self.enqueue(_key(d)),
            on_update=lambda old, new: self.enqueue(_key(new)),
            on_delete=lambda d: self.enqueue(_key(d)),
        )
        self.replica_sets: Informer[ReplicaSet] = self.informer(ReplicaSet)
        self.replica_sets.add_index("owner", _owner_uid)
        self.replica_sets.add_index("uid", lambda rs: [rs.metadata.uid])
        self.replica_sets.add_handler(
            on_add=self._rs_changed,
            on_update=lambda old, new: self._rs_changed(new),
            on_delete=self._rs_changed,
        )
        self.pods: Informer[Pod] = self.informer(Pod)
        self.pods.add_index("owner", _owner_uid)
        self.owned = OwnedPods(self.pods, controller_uid, "owner")
        self.pods.add_handler(
            on_add=self.owned.touch,
            on_update=self.owned.updated,
            on_delete=self._pod_deleted,
        )

    def all_keys(self) -> list[str]:
        return [_key(d) for d in self.deployments.items()]

    def _deployment_of(self, obj: ReplicaSet | Pod) -> str | None:
        reference = controller_of(obj)
        if reference is None:
            return None
        owners = self.deployments.by_index("uid", reference.uid)
        return _key(owners[0]) if owners else None

    def _rs_changed(self, rs: ReplicaSet) -> None:
        key = self._deployment_of(rs)
        if key is not None:
            self.enqueue(key)

    def _pod_deleted(self, pod: Pod) -> None:
        self.owned.touch(pod)
        # Recreate waits for old pods to be gone; a deletion may be what it waits for.
        reference = controller_of(pod)
        if reference is not None:
            for rs in self.replica_sets.by_index("uid", reference.uid):
                self._rs_changed(rs)

    # -- the sync ---------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        deployment = self.deployments.get(key)
        if deployment is None:
            return
        owned = self.replica_sets.by_index("owner", deployment.metadata.uid)
        if any(
            int(rs.metadata.resource_version or 0) < self._written.get(_key(rs), 0) for rs in owned
        ):
            return  # our last write to one of them is not in the cache yet: its event requeues
        if deployment.metadata.deletion_timestamp is not None:
            await self._sync_status(deployment, owned)
            return
        if selector_is_empty(deployment.spec.selector):
            logger.warning("deployment %s has an empty selector: not acting", key)
            return
        new_rs, old = self._split(deployment, owned)
        if self._scaling_event(deployment, owned):
            await self._scale(deployment, new_rs, old)
        elif deployment.spec.paused:
            pass
        elif deployment.spec.strategy.type == "Recreate":
            await self._recreate(deployment, new_rs, old)
        else:
            await self._rolling(deployment, new_rs, old)
        owned = self.replica_sets.by_index("owner", deployment.metadata.uid)
        new_rs, old = self._split(deployment, owned)
        if new_rs is not None and not deployment.spec.paused:
            await self._cleanup(deployment, old)
        await self._sync_status(deployment, owned)

    def _split(
        self, deployment: Deployment, owned: list[ReplicaSet]
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        template = deployment.spec.template
        matching = [rs for rs in owned if templates_equal_ignoring_hash(rs.spec.template, template)]
        new_rs = max(matching, key=lambda rs: rs.metadata.creation_timestamp or "", default=None)
        old = [rs for rs in owned if rs is not new_rs]
        return new_rs, sorted(
            old, key=lambda rs: (rs.metadata.creation_timestamp or "", revision_of(rs))
        )

    def _scaling_event(self, deployment: Deployment, owned: list[ReplicaSet]) -> bool:
        desired = str(desired_replicas(deployment))
        active = [rs for rs in owned if _replicas(rs) > 0]
        return any(
            rs.metadata.annotations.get(DESIRED_REPLICAS_ANNOTATION, desired) != desired
            for rs in active
        )

    def _pods_of(self, replica_sets: list[ReplicaSet]) -> int:
        """Active pods of `replica_sets` in the cache (counted as they change)."""
        return sum(self.owned.tally(rs.metadata.uid, EVERY_POD).active for rs in replica_sets)

    def _available(self, rs: ReplicaSet) -> int:
        """Available pods `rs` will keep: a lower bound whichever cache lags.

        Its status may predate a scale-down (pods about to go), and our pod cache may
        still hold pods already deleted; neither can exceed the spec for long.
        """
        seconds = rs.spec.min_ready_seconds
        tally = self.owned.tally(rs.metadata.uid, EVERY_POD)
        if seconds <= 0:
            pods = tally.ready  # available is ready, without minReadySeconds
        else:
            now = self.context.clock.wall()
            pods = sum(
                1
                for pod, _ in tally.pods.values()
                if is_active(pod) and is_available(pod, seconds, now)
            )
        return min(_replicas(rs), rs.status.available_replicas, pods)

    # -- ReplicaSet writes ------------------------------------------------------------

    async def _write_rs(self, rs: ReplicaSet) -> ReplicaSet:
        stored = await self.client.update(rs)
        self._written[_key(stored)] = int(stored.metadata.resource_version or 0)
        return stored

    def _annotated(self, deployment: Deployment, rs: ReplicaSet, replicas: int) -> ReplicaSet:
        surge, _ = max_surge_and_unavailable(deployment)
        desired = desired_replicas(deployment)
        annotations = dict(rs.metadata.annotations)
        annotations[DESIRED_REPLICAS_ANNOTATION] = str(desired)
        annotations[MAX_REPLICAS_ANNOTATION] = str(desired + surge)
        meta = msgspec.structs.replace(rs.metadata, annotations=annotations)
        spec = msgspec.structs.replace(rs.spec, replicas=replicas)
        return msgspec.structs.replace(rs, metadata=meta, spec=spec)

    async def _scale_rs(self, deployment: Deployment, rs: ReplicaSet, replicas: int) -> bool:
        wanted = self._annotated(deployment, rs, replicas)
        if wanted == rs:
            return False
        await self._write_rs(wanted)
        return True

    async def _ensure_new(
        self,
        deployment: Deployment,
        new_rs: ReplicaSet | None,
        old: list[ReplicaSet],
        replicas: int,
    ) -> ReplicaSet:
        """The new ReplicaSet, created with `replicas` if missing; its revision kept newest."""
        revision = max((revision_of(rs) for rs in old), default=0) + 1
        if new_rs is not None:
            if revision_of(new_rs) < revision:
                annotations = {**new_rs.metadata.annotations, REVISION_ANNOTATION: str(revision)}
                meta = msgspec.structs.replace(new_rs.metadata, annotations=annotations)
                new_rs = await self._write_rs(msgspec.structs.replace(new_rs, metadata=meta))
            return new_rs
        collisions = deployment.status.collision_count
        digest = template_hash(deployment.spec.template, collisions)
        template = deployment.spec.template
        labels = {**template.metadata.labels, HASH_LABEL: digest}
        template = msgspec.structs.replace(
            template, metadata=msgspec.structs.replace(template.metadata, labels=labels)
        )
        selector = deployment.spec.selector
        selector = msgspec.structs.replace(
            selector, match_labels={**selector.match_labels, HASH_LABEL: digest}
        )
        surge, _ = max_surge_and_unavailable(deployment)
        desired = desired_replicas(deployment)
        rs = ReplicaSet(
            metadata=ObjectMeta(
                name=f"{deployment.metadata.name}-{digest}",
                namespace=deployment.metadata.namespace,
                labels=labels,
                annotations={
                    REVISION_ANNOTATION: str(revision),
                    DESIRED_REPLICAS_ANNOTATION: str(desired),
                    MAX_REPLICAS_ANNOTATION: str(desired + surge),
                },
                owner_references=[owner_reference(deployment)],
            ),
            spec=ReplicaSetSpec(
                replicas=replicas,
                min_ready_seconds=deployment.spec.min_ready_seconds,
                selector=selector,
                template=template,
            ),
        )
        try:
            created = await self.client.create(rs)
        except ApiError as error:
            if error.code != 409:
                raise
            existing = self.replica_sets.get(_key(rs))
            if (
                existing is not None
                and controller_of(existing) is not None
                and (
                    controller_of(existing).uid == deployment.metadata.uid  # type: ignore[union-attr]
                )
            ):
                raise  # ours, the cache is behind: retry once it catches up
            # Another template hashed to this name: bump collisionCount and retry.
            status = msgspec.structs.replace(
                deployment.status, collision_count=(collisions or 0) + 1
            )
            await self.write_status(msgspec.structs.replace(deployment, status=status))
            raise
        self._written[_key(created)] = int(created.metadata.resource_version or 0)
        return created

    # -- strategies -------------------------------------------------------------------

    async def _rolling(
        self, deployment: Deployment, new_rs: ReplicaSet | None, old: list[ReplicaSet]
    ) -> None:
        desired = desired_replicas(deployment)
        every = [*old, *([new_rs] if new_rs is not None else [])]
        current = max(sum(map(_replicas, every)), self._pods_of(every))
        if new_rs is None:
            start = new_replica_set_replicas(deployment, current, 0)
            await self._ensure_new(deployment, None, old, start)
            return
        new_rs = await self._ensure_new(deployment, new_rs, old, 0)
        if _replicas(new_rs) > desired:
            await self._scale_rs(deployment, new_rs, desired)
            return
        target = new_replica_set_replicas(deployment, current, _replicas(new_rs))
        if target != _replicas(new_rs):
            await self._scale_rs(deployment, new_rs, target)
            return
        await self._scale_down_old(deployment, new_rs, old)

    async def _scale_down_old(
        self, deployment: Deployment, new_rs: ReplicaSet, old: list[ReplicaSet]
    ) -> None:
        old_total = sum(map(_replicas, old))
        if old_total == 0:
            return
        desired = desired_replicas(deployment)
        _, unavailable = max_surge_and_unavailable(deployment)
        min_available = desired - unavailable
        every = [*old, new_rs]
        all_pods = sum(map(_replicas, every))
        new_unavailable = _replicas(new_rs) - self._available(new_rs)
        budget = all_pods - min_available - new_unavailable
        if budget <= 0:
            return
        # First the old pods that are not available anyway (they cost no availability).
        for rs in old:
            if budget <= 0:
                break
            unhealthy = _replicas(rs) - self._available(rs)
            if unhealthy <= 0:
                continue
            cut = min(budget, unhealthy)
            await self._scale_rs(deployment, rs, _replicas(rs) - cut)
            budget -= cut
            return  # one step; the next sync sees the result
        available = sum(self._available(rs) for rs in every)
        room = available - min_available
        for rs in old:
            if room <= 0:
                break
            cut = min(room, _replicas(rs))
            if cut > 0:
                await self._scale_rs(deployment, rs, _replicas(rs) - cut)
                room -= cut

    async def _recreate(
        self, deployment: Deployment, new_rs: ReplicaSet | None, old: list[ReplicaSet]
    ) -> None:
        scaled = False
        for rs in old:
            if _replicas(rs) > 0:
                scaled = await self._scale_rs(deployment, rs, 0) or scaled
        if scaled or self._pods_of(old) > 0:
            return
        desired = desired_replicas(deployment)
        if new_rs is None:
            await self._ensure_new(deployment, None, old, desired)
            return
        new_rs = await self._ensure_new(deployment, new_rs, old, desired)
        await self._scale_rs(deployment, new_rs, desired)

    async def _scale(
        self, deployment: Deployment, new_rs: ReplicaSet | None, old: list[ReplicaSet]
    ) -> None:
        """`replicas` changed: resize every active ReplicaSet in proportion."""
        desired = desired_replicas(deployment)
        every = [*old, *([new_rs] if new_rs is not None else [])]
        active = [rs for rs in every if _replicas(rs) > 0]
        if len(active) <= 1 or deployment.spec.strategy.type == "Recreate":
            target = active[0] if active else new_rs
            if target is not None:
                await self._scale_rs(deployment, target, desired)
            return
        surge, _ = max_surge_and_unavailable(deployment)
        previous = max(
            (int(rs.metadata.annotations.get(MAX_REPLICAS_ANNOTATION, "0") or 0) for rs in active),
            default=0,
        )
        shares = proportional_shares(active, desired + surge, previous)
        for rs, replicas in zip(active, shares, strict=True):
            await self._scale_rs(deployment, rs, replicas)

    async def _cleanup(self, deployment: Deployment, old: list[ReplicaSet]) -> None:
        limit = deployment.spec.revision_history_limit
        limit = DEFAULT_REVISION_HISTORY if limit is None else limit
        idle = [
            rs
            for rs in old
            if _replicas(rs) == 0
            and rs.status.replicas == 0
            and rs.metadata.deletion_timestamp is None
        ]
        idle.sort(key=revision_of)
        for rs in idle[: max(0, len(idle) - limit)]:
            try:
                await self.client.delete(ReplicaSet, rs.metadata.name, rs.metadata.namespace)
            except ApiError as error:
                if error.code != 404:
                    raise

    # -- status -----------------------------------------------------------------------

    async def _sync_status(self, deployment: Deployment, owned: list[ReplicaSet]) -> None:
        desired = desired_replicas(deployment)
        new_rs, _ = self._split(deployment, owned)
        _, unavailable = max_surge_and_unavailable(deployment)
        replicas = sum(rs.status.replicas for rs in owned)
        available = sum(rs.status.available_replicas for rs in owned)
        updated = new_rs.status.replicas if new_rs is not None else 0
        now = self.context.clock.wall()
        stamp = format_time(now)
        conditions = {c.type: c for c in deployment.status.conditions}
        available_ok = available >= desired - unavailable
        conditions["Available"] = _condition(
            "Available",
            conditions.get("Available"),
            "True" if available_ok else "False",
            "MinimumReplicasAvailable" if available_ok else "MinimumReplicasUnavailable",
            stamp,
        )
        complete = (
            new_rs is not None
            and updated == desired
            and replicas == desired
            and available == desired
            and new_rs.status.available_replicas == desired
        )
        status = DeploymentStatus(
            observed_generation=deployment.metadata.generation,
            replicas=replicas,
            updated_replicas=updated,
            ready_replicas=sum(rs.status.ready_replicas for rs in owned),
            available_replicas=available,
            unavailable_replicas=max(0, desired - available),
            collision_count=deployment.status.collision_count,
        )
        progressing = conditions.get("Progressing")
        deadline = deployment.spec.progress_deadline_seconds
        deadline = DEFAULT_PROGRESS_DEADLINE if deadline is None else deadline
        previous = deployment.status
        moved = (
            previous.updated_replicas != status.updated_replicas
            or previous.available_replicas != status.available_replicas
            or previous.replicas != status.replicas
        )
        if deployment.spec.paused:
            conditions["Progressing"] = _condition(
                "Progressing", progressing, "Unknown", "DeploymentPaused", stamp
            )
        elif complete:
            conditions["Progressing"] = _condition(
                "Progressing", progressing, "True", "NewReplicaSetAvailable", stamp, touch=moved
            )
        elif (
            progressing is None
            or moved
            or progressing.reason in ("DeploymentPaused", "NewReplicaSetAvailable")
        ):
            conditions["Progressing"] = _condition(
                "Progressing", progressing, "True", "ReplicaSetUpdated", stamp, touch=True
            )
        else:
            since = parse_time(progressing.last_update_time)
            if since is not None and now - since > timedelta(seconds=deadline):
                conditions["Progressing"] = _condition(
                    "Progressing", progressing, "False", "ProgressDeadlineExceeded", stamp
                )
            elif since is not None:
                left = (since + timedelta(seconds=deadline) - now).total_seconds()
                self.queue.add_after(_key(deployment), left + 1)
        status = msgspec.structs.replace(
            status,
            conditions=[conditions[t] for t in ("Available", "Progressing") if t in conditions],
        )
        revision = str(revision_of(new_rs)) if new_rs is not None else None
        annotations = dict(deployment.metadata.annotations)
        if revision is not None:
            annotations[REVISION_ANNOTATION] = revision
        if status == deployment.status and annotations == deployment.metadata.annotations:
            return
        meta = msgspec.structs.replace(deployment.metadata, annotations=annotations)
        try:
            await self.write_status(
                msgspec.structs.replace(deployment, metadata=meta, status=status)
            )
        except ApiError as error:
            if error.code != 404:
                raise


def _condition(
    kind: str,
    current: DeploymentCondition | None,
    status: str,
    reason: str,
    stamp: str,
    *,
    touch: bool = False,
) -> DeploymentCondition:
    """The condition with `status` and `reason`; times move only when something changed."""
    if current is not None and current.status == status and current.reason == reason:
        if touch:
            return msgspec.structs.replace(current, last_update_time=stamp)
        return current
    return DeploymentCondition(
        type=current.type
        if current is not None
        else (
            "Progressing"
            if reason not in ("MinimumReplicasAvailable", "MinimumReplicasUnavailable")
            else "Available"
        ),
        status=status,  # type: ignore[arg-type]
        reason=reason,
        last_update_time=stamp,
        last_transition_time=stamp,
    )


def _owner_uid(obj: ReplicaSet | Pod) -> list[str]:
    reference = controller_of(obj)
    return [reference.uid] if reference is not None else []


async def rollback(
    client: Client, name: str, namespace: str = "default", revision: int = 0
) -> Deployment:
    """Roll `name` back to `revision` (0: the one before the current), as `kubectl
    rollout undo` does: copy that ReplicaSet's pod template into the Deployment."""
    deployment = await client.get(Deployment, name, namespace)
    owned = [
        rs
        for rs in (await client.list(ReplicaSet, namespace)).items
        if (ref := controller_of(rs)) is not None and ref.uid == deployment.metadata.uid
    ]
    current = int(deployment.metadata.annotations.get(REVISION_ANNOTATION, "0") or 0)
    if revision == 0:
        earlier = [rs for rs in owned if revision_of(rs) < current]
        if not earlier:
            raise ValueError(
                f"deployment {name!r} has no revision before {current} to roll back to"
            )
        target = max(earlier, key=revision_of)
    else:
        matching = [rs for rs in owned if revision_of(rs) == revision]
        if not matching:
            raise ValueError(f"deployment {name!r} has no revision {revision}")
        target = matching[0]
    template = target.spec.template
    labels = {k: v for k, v in template.metadata.labels.items() if k != HASH_LABEL}
    template = msgspec.structs.replace(
        template, metadata=msgspec.structs.replace(template.metadata, labels=labels)
    )
    spec = msgspec.structs.replace(deployment.spec, template=template)
    return await client.update(msgspec.structs.replace(deployment, spec=spec))
