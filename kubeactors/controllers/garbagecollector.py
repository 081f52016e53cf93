"""The garbage collector: follows `ownerReferences` so dependents go with their owners.

It watches the kinds that own or are owned here (Deployments, ReplicaSets, Jobs,
ReplicationControllers, Pods, Services, Endpoints, EndpointSlices, ConfigMaps,
Secrets) and, given the API server's kind registry, every custom kind from the moment
its CRD is established until it goes (operators own ConfigMaps with their custom
objects, and custom objects with each other). An object whose
every owner is gone (checked against the API, not only the cache, since a cache may
not have seen a new owner yet) is deleted in the background; owners that are gone
are dropped from an object that still has a live one. An owner deleted with
`propagationPolicy: Orphan` carries the `orphan` finalizer: its dependents lose
their reference to it, then the finalizer goes. One deleted with `Foreground`
carries `foregroundDeletion`: its dependents are deleted (in the foreground too),
and the finalizer goes once no dependent with `blockOwnerDeletion` is left.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import msgspec

from .._mypyc import mypyc_attr
from ..api import (
    KINDS,
    ApiError,
    ApiObject,
    ConfigMap,
    Deployment,
    Endpoints,
    EndpointSlice,
    Job,
    KindListener,
    KindRegistry,
    OwnerReference,
    Pod,
    ReplicaSet,
    ReplicationController,
    ResourceKind,
    Secret,
    Service,
    UnknownKindError,
)
from ..client import Informer
from ._base import Controller
from ._messages import KindsChanged

__all__ = ["FOREGROUND", "ORPHAN", "GarbageCollector"]

logger = logging.getLogger(__name__)

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"

_KINDS: tuple[type[ApiObject], ...] = (
    Deployment,
    ReplicaSet,
    Job,
    ReplicationController,
    Pod,
    Service,
    Endpoints,
    EndpointSlice,
    ConfigMap,
    Secret,
)


def _custom(kind: ResourceKind[Any]) -> bool:
    try:
        KINDS.of_type(kind.type)
    except UnknownKindError:
        return True
    return False


def _key(obj: ApiObject) -> str:
    return f"{obj.kind}|{obj.metadata.namespace}|{obj.metadata.name}"


@mypyc_attr(allow_interpreted_subclasses=True)
class GarbageCollector(Controller):
    name = "garbagecollector"
    workers = 4

    def __init__(self, client: Any, kinds: KindRegistry | None = None) -> None:
        super().__init__(client)
        self.kinds = kinds
        self._custom_scopes: dict[str, anyio.CancelScope] = {}
        self._listener: KindListener | None = None

    def setup(self) -> None:
        self.caches: dict[str, Informer[Any]] = {}
        for kind in _KINDS:
            self.caches[kind.__name__] = self._watch(self.informer(kind))
        if self.kinds is not None:
            me = self.context.self

            def changed(added: list[ResourceKind[Any]], removed: list[ResourceKind[Any]]) -> None:
                me.try_tell(KindsChanged(list(added), list(removed)))

            self._listener = changed
            self.kinds.subscribe(changed)
            for custom in filter(_custom, self.kinds):
                self._follow_kind(custom)

    async def on_stop(self) -> None:
        if self.kinds is not None and self._listener is not None:
            self.kinds.unsubscribe(self._listener)
        await super().on_stop()

    def _watch(self, informer: Informer[Any]) -> Informer[Any]:
        informer.add_index("owner", lambda o: [r.uid for r in o.metadata.owner_references])
        informer.add_index("uid", lambda o: [o.metadata.uid])
        informer.add_handler(
            on_add=self._changed,
            on_update=lambda old, new: self._changed(new),
            on_delete=self._deleted,
        )
        return informer

    async def tick(self, message: Any) -> None:
        if not isinstance(message, KindsChanged):
            await super().tick(message)
            return
        for kind in filter(_custom, message.removed):
            scope = self._custom_scopes.pop(kind.kind, None)
            if scope is not None:
                scope.cancel()
            self.caches.pop(kind.kind, None)
        for kind in filter(_custom, message.added):
            if kind.kind not in self.caches:
                self._follow_kind(kind)

    def _follow_kind(self, kind: ResourceKind[Any]) -> None:
        """Watch a custom kind until it goes. Its cache may not be synced when the
        workers start, which is safe: an owner missing from a cache is looked up."""
        informer = self._watch(Informer(self.client, kind.type))
        self.caches[kind.kind] = informer
        scope = self._custom_scopes[kind.kind] = anyio.CancelScope()

        async def follow() -> None:
            with scope:
                try:
                    await informer.run()
                except ApiError as error:
                    # The kind went before its removal was announced.
                    logger.info("stopped following %s: %s", kind.kind, error)

        self.context.start_soon(follow)

    def all_keys(self) -> list[str]:
        return [
            _key(obj)
            for informer in self.caches.values()
            for obj in informer.items()
            if obj.metadata.owner_references or obj.metadata.deletion_timestamp is not None
        ]

    def _changed(self, obj: ApiObject) -> None:
        meta = obj.metadata
        if meta.owner_references or meta.deletion_timestamp is not None:
            self.enqueue(_key(obj))
        if meta.deletion_timestamp is not None:
            for dependent in self.dependents(meta.uid):
                self.enqueue(_key(dependent))

    def _deleted(self, obj: ApiObject) -> None:
        for dependent in self.dependents(obj.metadata.uid):
            self.enqueue(_key(dependent))
        # An owner deleting in the foreground waits for this one: look at it again.
        for reference in obj.metadata.owner_references:
            for informer in self.caches.values():
                for owner in informer.by_index("uid", reference.uid):
                    if owner.metadata.deletion_timestamp is not None:
                        self.enqueue(_key(owner))

    def dependents(self, uid: str) -> list[ApiObject]:
        return [obj for informer in self.caches.values() for obj in informer.by_index("owner", uid)]

    # -- the sync ---------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        kind, namespace, name = key.split("|", 2)
        informer = self.caches.get(kind)
        obj = informer.get(f"{namespace}/{name}" if namespace else name) if informer else None
        if obj is None:
            return
        meta = obj.metadata
        if meta.deletion_timestamp is not None:
            if ORPHAN in meta.finalizers:
                await self._orphan(obj)
            elif FOREGROUND in meta.finalizers:
                await self._foreground(obj)
            return
        if not meta.owner_references:
            return
        absent = [ref for ref in meta.owner_references if not await self._exists(ref, namespace)]
        if not absent:
            return
        if len(absent) == len(meta.owner_references):
            logger.info("%s: every owner is gone; deleting", key)
            await self._delete(obj, "Background")
        else:
            gone = {ref.uid for ref in absent}
            kept = [ref for ref in meta.owner_references if ref.uid not in gone]
            await self._set_owners(obj, kept)

    async def _exists(self, ref: OwnerReference, namespace: str) -> bool:
        informer = self.caches.get(ref.kind)
        if informer is None:
            return True  # a kind not watched here: not ours to judge
        if informer.by_index("uid", ref.uid):
            return True
        try:
            live = await self.client.get(informer.kind, ref.name, namespace)
        except ApiError as error:
            if error.code == 404:
                return False
            raise
        return bool(live.metadata.uid == ref.uid)

    async def _orphan(self, owner: ApiObject) -> None:
        uid = owner.metadata.uid
        for dependent in self.dependents(uid):
            kept = [ref for ref in dependent.metadata.owner_references if ref.uid != uid]
            await self._set_owners(dependent, kept)
        await self._drop_finalizer(owner, ORPHAN)

    async def _foreground(self, owner: ApiObject) -> None:
        blocking = 0
        for dependent in self.dependents(owner.metadata.uid):
            refs = [r for r in dependent.metadata.owner_references if r.uid == owner.metadata.uid]
            if any(r.block_owner_deletion for r in refs):
                blocking += 1
            if dependent.metadata.deletion_timestamp is None:
                await self._delete(dependent, "Foreground")
        if blocking == 0:
            await self._drop_finalizer(owner, FOREGROUND)

    async def _delete(self, obj: ApiObject, policy: str) -> None:
        try:
            await self.client.delete(
                type(obj), obj.metadata.name, obj.metadata.namespace, propagation_policy=policy
            )
        except ApiError as error:
            if error.code != 404:
                raise

    async def _set_owners(self, obj: ApiObject, owners: list[OwnerReference]) -> None:
        meta = msgspec.structs.replace(obj.metadata, owner_references=owners)
        try:
            await self.client.update(msgspec.structs.replace(obj, metadata=meta))
        except ApiError as error:
            if error.code != 404:
                raise

    async def _drop_finalizer(self, obj: ApiObject, finalizer: str) -> None:
        finalizers = [f for f in obj.metadata.finalizers if f != finalizer]
        meta = msgspec.structs.replace(obj.metadata, finalizers=finalizers)
        try:
            await self.client.update(msgspec.structs.replace(obj, metadata=meta))
        except ApiError as error:
            if error.code != 404:
                raise
