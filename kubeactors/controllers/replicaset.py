"""The ReplicaSet (and ReplicationController) controller: keep `replicas` pods running.

One engine for both kinds (see `_replicas.py`). Per owner, a sync: claims pods
(adopts orphans its selector matches, releases pods it owns that no longer match),
then, if every creation and deletion it asked for has come back through the cache
(expectations), creates or deletes the difference, at most `burst_replicas` per sync:
creations go in slow-start batches of 1, 2, 4, ... so a template the API rejects
costs one request, not hundreds; deletions take the pods upstream ranks first. Then
it writes `status` if that changed.

Upstream's sync reads every pod of its owner, and an owner of 20,000 pods is synced
again at each of their changes. Here what a sync asks of each pod (selected? active?
ready? fully labelled?) and the counts over them are kept per owner (`_owned.py`),
brought up to date from the pods changed since the last sync; the pods themselves are
read only to release, to delete or to judge availability after `minReadySeconds`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

import msgspec

from .._mypyc import mypyc_attr
from ..api import ApiError, ApiObject, ObjectMeta, OwnerReference, Pod
from ..client import Informer
from ._base import Controller
from ._expectations import Expectations
from ._frozen_tally import FrozenTally
from ._labels import selector_is_empty, selector_matches
from ._owned import Basis, OwnedPods, PodFacts, Tally, controller_uid
from ._pods import (
    controller_of,
    deletion_order,
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


async def _concurrently(calls: list[Coroutine[Any, Any, None]]) -> None:
    """Run `calls` (which raise nothing) concurrently, each in a task, until all are done.

    Plain asyncio tasks, not a task group's: a sync of 500 creations would spend more
    on spawning anyio tasks (a cancel scope, a name, bookkeeping each) than on the
    requests. Cancelling the caller cancels them all, as a task group would.
    """
    if calls:
        await asyncio.gather(*calls)


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


@mypyc_attr(allow_interpreted_subclasses=True)
class ReplicaSetEngine(Controller, Generic[W]):
    """The engine; `ReplicaSetController` and `ReplicationControllerController` bind a kind."""

    kind: ReplicaKind[W]
    burst_replicas = BURST_REPLICAS
    workers = 8

    def setup(self) -> None:
        self.expectations = Expectations(self.context.clock)
        # Per owner key, its `Basis` and what it was made of: the same object while the
        # owner's selector and template labels stay, so its tally is judged once.
        self._bases: dict[str, tuple[Basis, tuple[Any, Any]]] = {}
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
        self.owned = OwnedPods(self.pods, controller_uid, "owner")
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
        return self._owner_key_for(controller_of(pod))

    def _owner_key_for(self, reference: OwnerReference | None) -> str | None:
        """The key of the owner a pod's controller reference names, if it is ours."""
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
        self.owned.touch(pod)
        key = self._owner_key_of(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.enqueue(key)
        elif controller_of(pod) is None:
            for owner_key in self._matching_owners(pod):
                self.enqueue(owner_key)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        self.owned.updated(old, new)
        old_reference, new_reference = controller_of(old), controller_of(new)
        new_key = self._owner_key_for(new_reference)
        # Nearly always the same reference (a status or a binding): looked up once.
        old_key = new_key if old_reference == new_reference else self._owner_key_for(old_reference)
        for key in (new_key,) if old_key == new_key else (old_key, new_key):
            if key is not None:
                self.enqueue(key)
                owner = self.owners.get(key)
                if owner is not None and is_ready(new) and not is_ready(old):
                    # Availability needs a second look once minReadySeconds have passed.
                    delay = self.kind.min_ready_seconds(owner)
                    if delay > 0:
                        self.queue.add_after(key, delay + 1)
        if new_reference is None and (
            old_reference is not None or old.metadata.labels != new.metadata.labels
        ):
            for owner_key in self._matching_owners(new):
                self.enqueue(owner_key)

    def _pod_deleted(self, pod: Pod) -> None:
        self.owned.touch(pod)
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
        tally, adopted = await self._claim(owner)
        # What the claim found, before any write below can bring newer pods in.
        counts = _Counts(tally, adopted, self.kind.min_ready_seconds(owner))
        if self.expectations.satisfied(key) and owner.metadata.deletion_timestamp is None:
            await self._manage(key, owner, counts)
        await self._update_status(key, owner, counts)

    def _basis(self, owner: W) -> Basis:
        """What `owner` judges its pods by (the same object while that stays)."""
        template = self.kind.template(owner)
        selector = self.kind.selector(owner)
        labels = template.metadata.labels if template is not None else None
        wanted = (selector, labels)
        key = _key(owner)
        known = self._bases.get(key)
        if known is not None and known[1] == wanted:
            return known[0]
        # An empty selector selects nothing here (`Basis(None, ...)` would select all).
        basis = Basis(selector, labels if labels is not None else {})
        self._bases[key] = (basis, wanted)
        return basis

    async def _claim(self, owner: W) -> tuple[Tally, list[tuple[Pod, PodFacts]]]:
        """The tally of the pods `owner` controls, after releasing those its selector no
        longer matches, and the orphans it adopted (upstream's claim).

        The tally's counts are those of the cache when the claim began.
        """
        uid = owner.metadata.uid
        basis = self._basis(owner)
        tally = self.owned.tally(uid, basis)
        if tally.releasable:
            released = [
                pod
                for pod, facts in tally.pods.values()
                if facts is not None
                and not facts.selected
                and pod.metadata.deletion_timestamp is None
            ]
            tally = FrozenTally.of(tally)  # the claim's view, while the releases are written
            for pod in released:
                await self._release(owner, pod)
        adopted: list[tuple[Pod, PodFacts]] = []
        if owner.metadata.deletion_timestamp is not None:
            return tally, adopted
        orphans = self.pods.by_index("owner", _ORPHAN + owner.metadata.namespace)
        if orphans and not isinstance(tally, FrozenTally):
            tally = FrozenTally.of(tally)
        for pod in orphans:
            if pod.metadata.deletion_timestamp is None and self._selects(owner, pod):
                claimed = await self._adopt(owner, pod)
                if claimed is not None:
                    adopted.append((claimed, basis.facts(claimed)))
        return tally, adopted

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

    async def _manage(self, key: str, owner: W, counts: _Counts) -> None:
        diff = counts.replicas - self.kind.replicas(owner)
        if diff < 0:
            await self._create(key, owner, min(-diff, self.burst_replicas))
        elif diff > 0:
            await self._delete(key, counts.active_pods(), min(diff, self.burst_replicas))

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
            await _concurrently([create_one() for _ in range(batch)])
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

        await _concurrently([delete_one(pod) for pod in victims])
        if errors:
            raise errors[0]

    async def _update_status(self, key: str, owner: W, counts: _Counts) -> None:
        now = self.context.clock.wall()
        min_ready = self.kind.min_ready_seconds(owner)
        status = ReplicaCounts(
            replicas=counts.replicas,
            fully_labeled_replicas=counts.labeled,
            ready_replicas=counts.ready,
            available_replicas=(
                counts.ready
                if min_ready <= 0
                else sum(1 for pod in counts.ready_pods if is_available(pod, min_ready, now))
            ),
            observed_generation=owner.metadata.generation,
        )
        if status.ready_replicas > status.available_replicas and min_ready > 0:
            self.queue.add_after(key, float(min_ready))
        if status == self.kind.counts(owner):
            return
        try:
            await self.write_status(self.kind.with_counts(owner, status))
        except ApiError as error:
            if error.code != 404:
                raise


class _Counts:
    """What a sync acts on: the claimed pods' counts (the tally's plus the adopted
    pods'), and, when they will be read, the active pods and the ready ones."""

    def __init__(self, tally: Tally, adopted: list[tuple[Pod, PodFacts]], min_ready: int) -> None:
        self._tally = tally
        self._adopted = adopted
        self.replicas = tally.active + sum(1 for _, f in adopted if f.active)
        self.ready = tally.ready + sum(1 for _, f in adopted if f.active and f.ready)
        self.labeled = tally.labeled + sum(1 for _, f in adopted if f.active and f.labeled)
        self.ready_pods: list[Pod] = []
        if min_ready > 0:
            self.ready_pods = [pod for pod, f in self._claimed() if f.active and f.ready]

    def _claimed(self) -> list[tuple[Pod, PodFacts]]:
        """The claimed pods in the order of upstream's claim: the cache's, then the adopted."""
        claimed = [
            (pod, facts)
            for pod, facts in self._tally.pods.values()
            if facts is not None and facts.selected
        ]
        return claimed + self._adopted

    def active_pods(self) -> list[Pod]:
        return [pod for pod, facts in self._claimed() if facts.active]


def _key(obj: Any) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


@mypyc_attr(allow_interpreted_subclasses=True)
class ReplicaSetController(ReplicaSetEngine[Any]):
    name = "replicaset"
    kind = REPLICA_SETS


@mypyc_attr(allow_interpreted_subclasses=True)
class ReplicationControllerController(ReplicaSetEngine[Any]):
    name = "replicationcontroller"
    kind = REPLICATION_CONTROLLERS
