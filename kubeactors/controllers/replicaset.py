"""The ReplicaSet (and ReplicationController) controller: keep `replicas` pods running.

One engine for both kinds (see `_replicas.py`). Per owner, a sync: claims pods
(adopts orphans its selector matches, releases pods it owns that no longer match),
then, if every creation and deletion it asked for has come back through the cache
(expectations), creates or deletes the difference, at most `burst_replicas` per sync:
creations go in slow-start batches of 1, 2, 4, ... so a template the API rejects
costs one request, not hundreds; deletions take the pods upstream ranks first. Then
it writes `status` if that changed.

A sync looks at every pod of its owner, and an owner of 20,000 pods is synced again at
each of their changes; what a sync asks of each pod (selected? active? ready? fully
labelled?) is kept per pod object and owner selector, so a pod that did not change
since the last sync costs a lookup, not four tests.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Generic, TypeVar

import anyio
import msgspec

from ..api import ApiError, ApiObject, ObjectMeta, Pod
from ..client import Informer
from ._base import Controller
from ._expectations import Expectations
from ._labels import selector_is_empty, selector_matches
from ._pods import (
    controller_of,
    deletion_order,
    is_active,
    is_available,
    is_ready,
    owner_reference,
    pod_key,
)
from ._replicas import REPLICA_SETS, REPLICATION_CONTROLLERS, ReplicaCounts, ReplicaKind

__all__ = ["ReplicaSetController", "ReplicationControllerController", "slow_start_batches"]

logger = logging.getLogger(__name__)

W = TypeVar("W", bound=ApiObject)

BURST_REPLICAS = 500
"""The most pods one sync creates or deletes (upstream's burstReplicas)."""

_ORPHAN = "orphan/"


class _Facts(msgspec.Struct, frozen=True, gc=False):
    """What a sync asks of one pod object, for one owner's selector and template."""

    selected: bool
    active: bool
    ready: bool
    labeled: bool


def slow_start_batches(count: int, initial: int = 1) -> list[int]:
    """Batch sizes 1, 2, 4, ... summing to `count` (the last one trimmed)."""
    batches: list[int] = []
    size = initial
    remaining = count
    while remaining > 0:
        batch = min(size, remaining)
        batches.append(batch)
        remaining -= batch
        size *= 2
    return batches


def _owner_index(pod: Pod) -> list[str]:
    reference = controller_of(pod)
    if reference is None:
        return [_ORPHAN + pod.metadata.namespace]
    return [reference.uid]


class ReplicaSetEngine(Controller, Generic[W]):
    """The engine; `ReplicaSetController` and `ReplicationControllerController` bind a kind."""

    kind: ReplicaKind[W]
    burst_replicas = BURST_REPLICAS
    workers = 8

    def setup(self) -> None:
        self.expectations = Expectations(self.context.clock)
        # Per pod object (by id, the object held so the id stays its own): the basis
        # it was judged on and the facts. A basis is one owner's (selector, template
        # labels), a new tuple whenever either changes.
        self._facts: dict[int, tuple[Pod, object, _Facts]] = {}
        self._bases: dict[str, tuple[object, tuple[Any, Any]]] = {}
        self.owners: Informer[W] = self.informer(self.kind.type)
        self.owners.add_index("uid", lambda owner: [owner.metadata.uid])
        self.owners.add_index("namespace", lambda owner: [owner.metadata.namespace])
        self.owners.add_handler(
            on_add=self._owner_changed,
            on_update=lambda old, new: self._owner_changed(new),
            on_delete=self._owner_deleted,
        )
        self.pods: Informer[Pod] = self.informer(Pod)
        self.pods.add_index("owner", _owner_index)
        self.pods.add_handler(
            on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted
        )

    def all_keys(self) -> list[str]:
        return [_key(owner) for owner in self.owners.items()]

    # -- event handlers: each names the owners to look at again ------------------------

    def _owner_changed(self, owner: W) -> None:
        self.enqueue(_key(owner))

    def _owner_deleted(self, owner: W) -> None:
        key = _key(owner)
        self.expectations.forget(key)
        self.enqueue(key)

    def _owner_key_of(self, pod: Pod) -> str | None:
        reference = controller_of(pod)
        if reference is None or reference.kind != self.kind.type.__name__:
            return None
        owners = self.owners.by_index("uid", reference.uid)
        return _key(owners[0]) if owners else None

    def _matching_owners(self, pod: Pod) -> list[str]:
        return [
            _key(owner)
            for owner in self.owners.by_index("namespace", pod.metadata.namespace)
            if self._selects(owner, pod)
        ]

    def _selects(self, owner: W, pod: Pod) -> bool:
        selector = self.kind.selector(owner)
        return not selector_is_empty(selector) and selector_matches(selector, pod.metadata.labels)

    def _pod_added(self, pod: Pod) -> None:
        key = self._owner_key_of(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.enqueue(key)
        elif controller_of(pod) is None:
            for owner_key in self._matching_owners(pod):
                self.enqueue(owner_key)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        self._facts.pop(id(old), None)
        old_key, new_key = self._owner_key_of(old), self._owner_key_of(new)
        for key in {old_key, new_key}:
            if key is not None:
                self.enqueue(key)
                owner = self.owners.get(key)
                if owner is not None and is_ready(new) and not is_ready(old):
                    # Availability needs a second look once minReadySeconds have passed.
                    delay = self.kind.min_ready_seconds(owner)
                    if delay > 0:
                        self.queue.add_after(key, delay + 1)
        relabelled = old.metadata.labels != new.metadata.labels
        if controller_of(new) is None and (relabelled or controller_of(old) is not None):
            for owner_key in self._matching_owners(new):
                self.enqueue(owner_key)

    def _pod_deleted(self, pod: Pod) -> None:
        self._facts.pop(id(pod), None)
        key = self._owner_key_of(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod_key(pod))
            self.enqueue(key)

    # -- the sync --------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        owner = self.owners.get(key)
        if owner is None:
            self.expectations.forget(key)
            self._bases.pop(key, None)
            return
        claimed = await self._claim(owner)
        active = [(pod, facts) for pod, facts in claimed if facts.active]
        if self.expectations.satisfied(key) and owner.metadata.deletion_timestamp is None:
            await self._manage(key, owner, [pod for pod, _ in active])
        await self._update_status(key, owner, active)

    def _basis(self, owner: W) -> object:
        """The token of what `owner` judges its pods by (the same while that stays)."""
        template = self.kind.template(owner)
        wanted = (self.kind.selector(owner), template.metadata.labels if template else None)
        key = _key(owner)
        known = self._bases.get(key)
        if known is not None and known[1] == wanted:
            return known[0]
        token = object()
        self._bases[key] = (token, wanted)
        return token

    def _facts_of(self, owner: W, basis: object, pod: Pod) -> _Facts:
        known = self._facts.get(id(pod))
        if known is not None and known[0] is pod and known[1] is basis:
            return known[2]
        template = self.kind.template(owner)
        template_labels = template.metadata.labels.items() if template is not None else {}.items()
        facts = _Facts(
            selected=self._selects(owner, pod),
            active=is_active(pod),
            ready=is_ready(pod),
            labeled=template_labels <= pod.metadata.labels.items(),
        )
        self._facts[id(pod)] = (pod, basis, facts)
        return facts

    async def _claim(self, owner: W) -> list[tuple[Pod, _Facts]]:
        """The pods `owner` controls after adopting and releasing (upstream's claim)."""
        uid = owner.metadata.uid
        basis = self._basis(owner)
        facts_of, known_facts = self._facts_of, self._facts
        owned: list[tuple[Pod, _Facts]] = []
        for pod in self.pods.by_index("owner", uid):
            # `_facts_of`'s lookup, inline: this loop runs over every pod of the owner.
            known = known_facts.get(id(pod))
            if known is not None and known[0] is pod and known[1] is basis:
                facts = known[2]
            else:
                facts = facts_of(owner, basis, pod)
            if facts.selected:
                owned.append((pod, facts))
            elif pod.metadata.deletion_timestamp is None:
                await self._release(owner, pod)
        if owner.metadata.deletion_timestamp is not None:
            return owned
        for pod in self.pods.by_index("owner", _ORPHAN + owner.metadata.namespace):
            if pod.metadata.deletion_timestamp is None and self._selects(owner, pod):
                adopted = await self._adopt(owner, pod)
                if adopted is not None:
                    owned.append((adopted, facts_of(owner, basis, adopted)))
        return owned

    async def _adopt(self, owner: W, pod: Pod) -> Pod | None:
        references = [*pod.metadata.owner_references, owner_reference(owner)]
        meta = msgspec.structs.replace(pod.metadata, owner_references=references)
        try:
            return await self.client.update(msgspec.structs.replace(pod, metadata=meta))
        except ApiError as error:
            if error.code in (404, 409):
                return None  # gone or changed: the next event brings it back here
            raise

    async def _release(self, owner: W, pod: Pod) -> None:
        uid = owner.metadata.uid
        references = [ref for ref in pod.metadata.owner_references if ref.uid != uid]
        meta = msgspec.structs.replace(pod.metadata, owner_references=references)
        try:
            await self.client.update(msgspec.structs.replace(pod, metadata=meta))
        except ApiError as error:
            if error.code not in (404, 409):
                raise

    async def _manage(self, key: str, owner: W, active: list[Pod]) -> None:
        diff = len(active) - self.kind.replicas(owner)
        if diff < 0:
            await self._create(key, owner, min(-diff, self.burst_replicas))
        elif diff > 0:
            await self._delete(key, active, min(diff, self.burst_replicas))

    async def _create(self, key: str, owner: W, count: int) -> None:
        template = self.kind.template(owner)
        if template is None:
            logger.warning("%s %s has no pod template", self.kind.type.__name__, key)
            return
        pod = Pod(
            metadata=ObjectMeta(
                generate_name=f"{owner.metadata.name}-",
                namespace=owner.metadata.namespace,
                labels=dict(template.metadata.labels),
                annotations=dict(template.metadata.annotations),
                owner_references=[owner_reference(owner)],
            ),
            spec=template.spec,
        )
        self.expectations.expect_creations(key, count)
        attempted = 0
        first_error: Exception | None = None
        failures: list[Exception] = []

        async def create_one() -> None:
            try:
                await self.client.create(pod)
            except Exception as error:  # timeouts too: lower the count, as upstream
                failures.append(error)
                self.expectations.creation_observed(key)

        for batch in slow_start_batches(count):
            attempted += batch
            async with anyio.create_task_group() as group:
                for _ in range(batch):
                    group.start_soon(create_one)
            if failures:
                first_error = failures[0]
                break
        for _ in range(count - attempted):
            self.expectations.creation_observed(key)  # never sent: nothing to wait for
        if first_error is not None:
            raise first_error

    async def _delete(self, key: str, active: list[Pod], count: int) -> None:
        colocated = Counter(pod.spec.node_name for pod in active if pod.spec.node_name)
        victims = deletion_order(active, dict(colocated))[:count]
        self.expectations.expect_deletions(key, [pod_key(pod) for pod in victims])
        errors: list[Exception] = []

        async def delete_one(pod: Pod) -> None:
            try:
                await self.client.delete(Pod, pod.metadata.name, pod.metadata.namespace)
            except Exception as error:
                if not (isinstance(error, ApiError) and error.code == 404):
                    self.expectations.deletion_observed(key, pod_key(pod))
                    errors.append(error)

        async with anyio.create_task_group() as group:
            for pod in victims:
                group.start_soon(delete_one, pod)
        if errors:
            raise errors[0]

    async def _update_status(self, key: str, owner: W, active: list[tuple[Pod, _Facts]]) -> None:
        now = self.context.clock.wall()
        min_ready = self.kind.min_ready_seconds(owner)
        ready = sum(1 for _, facts in active if facts.ready)
        counts = ReplicaCounts(
            replicas=len(active),
            fully_labeled_replicas=sum(1 for _, facts in active if facts.labeled),
            ready_replicas=ready,
            available_replicas=(
                ready
                if min_ready <= 0
                else sum(
                    1 for pod, facts in active if facts.ready and is_available(pod, min_ready, now)
                )
            ),
            observed_generation=owner.metadata.generation,
        )
        if counts.ready_replicas > counts.available_replicas and min_ready > 0:
            self.queue.add_after(key, float(min_ready))
        if counts == self.kind.counts(owner):
            return
        try:
            await self.write_status(self.kind.with_counts(owner, counts))
        except ApiError as error:
            if error.code != 404:
                raise


def _key(obj: Any) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


class ReplicaSetController(ReplicaSetEngine[Any]):
    name = "replicaset"
    kind = REPLICA_SETS


class ReplicationControllerController(ReplicaSetEngine[Any]):
    name = "replicationcontroller"
    kind = REPLICATION_CONTROLLERS
