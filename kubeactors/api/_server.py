"""The API server actor: validates, names and versions objects, and persists them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from ..actors import Actor, ActorRef, Reply
from ..store import (
    CompactedError,
    ConflictError,
    KeyValue,
    RangeResult,
    RequestTooLargeError,
    Store,
    StoreRequest,
    WriteResult,
    prefix_end,
)
from ..store import Delete as StoreDelete
from ..store import Get as StoreGet
from ..store import Put as StorePut
from ..store import Range as StoreRange
from ._forward import forward
from ._kinds import Resource, ResourceKind, UnknownKindError, kind_of, with_resource_version
from ._messages import ApiRequest, Create, Delete, Get, List, Update, Watch
from ._meta import ListMeta, ObjectList, WatchEvent, format_time
from ._pod import Pod
from ._status import ApiError, StatusCause, bad_request, internal_error
from ._validation import validate
from ._watch import ApiWatch, DecodeCache

__all__ = ["ApiServer"]

logger = logging.getLogger(__name__)

# The alphabet and length of the random suffix Kubernetes appends to `generateName`.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_NAME_SUFFIX = 5


class ApiServer(Actor[ApiRequest]):
    """Serves create, get, list, update, delete and watch of Pods and Nodes.

    It never waits on the store inside `receive`: each request is checked, encoded
    once and forwarded to the store with a reply that turns the store's answer into
    the caller's (an object, a list or a Kubernetes `Status` error). Watches are set
    up in a background task because they take two store round trips.
    """

    mailbox_size = 8192

    def __init__(
        self, store: ActorRef[StoreRequest], *, wall_clock: Callable[[], datetime]
    ) -> None:
        self._store_ref = store
        self._store = Store(store)
        self._wall_clock = wall_clock
        self._decoded = DecodeCache()

    async def receive(self, message: ApiRequest) -> None:
        try:
            match message:
                case Create():
                    await self._create(message)
                case Get():
                    await self._get(message)
                case List():
                    await self._list(message)
                case Update():
                    await self._update(message)
                case Delete():
                    await self._delete(message)
                case Watch():
                    self._watch(message)
        except ApiError as error:
            message.reply.fail(error)
        except UnknownKindError as error:
            message.reply.fail(bad_request(str(error)))

    # -- writes ------------------------------------------------------------------

    async def _create(self, request: Create) -> None:
        obj = request.obj
        kind: ResourceKind[Any] = kind_of(type(obj))
        meta = obj.metadata
        name = meta.name
        generated = not name and bool(meta.generate_name)
        if generated:
            rng = self.context.random
            name = meta.generate_name + "".join(
                rng.choice(_NAME_ALPHABET) for _ in range(_NAME_SUFFIX)
            )
        namespace = (meta.namespace or "default") if kind.namespaced else ""
        uid = str(uuid.UUID(int=self.context.random.getrandbits(128), version=4))
        meta = msgspec.structs.replace(
            meta,
            name=name,
            namespace=namespace,
            uid=uid,
            resource_version="",
            creation_timestamp=format_time(self._wall_clock()),
        )
        obj = msgspec.structs.replace(obj, metadata=meta)
        if isinstance(obj, Pod) and not obj.status.phase:
            obj = msgspec.structs.replace(
                obj, status=msgspec.structs.replace(obj.status, phase="Pending")
            )
        self._validate(kind, obj)
        stored: Resource = obj

        def created(result: WriteResult) -> Resource:
            return with_resource_version(stored, result.revision)

        me = self.context.self

        def translate(error: BaseException) -> BaseException | None:
            if not isinstance(error, ConflictError):
                return _store_failure(error)
            if generated and request.name_attempts > 1:
                retry = Create(request.obj, request.reply, request.name_attempts - 1)
                if me.try_tell(retry):
                    return None
            return ApiError.already_exists(kind.plural, name)

        key = kind.key(namespace, name)
        reply: Reply[WriteResult] = forward(request.reply, created, translate)
        await self._store_ref.tell(StorePut(key, kind.encode(obj), reply, expect_mod_revision=0))

    async def _update(self, request: Update) -> None:
        obj = request.obj
        kind: ResourceKind[Any] = kind_of(type(obj))
        meta = obj.metadata
        namespace = (meta.namespace or "default") if kind.namespaced else ""
        expected = _parse_resource_version(kind, meta.name, meta.resource_version)
        meta = msgspec.structs.replace(meta, namespace=namespace, resource_version="")
        obj = msgspec.structs.replace(obj, metadata=meta)
        self._validate(kind, obj)
        stored: Resource = obj
        name = meta.name

        def updated(result: WriteResult) -> Resource:
            return with_resource_version(stored, result.revision)

        def translate(error: BaseException) -> BaseException:
            if isinstance(error, ConflictError):
                if error.actual == 0:
                    return ApiError.not_found(kind.plural, name)
                return ApiError.conflict(kind.plural, name)
            return _store_failure(error)

        key = kind.key(namespace, name)
        reply: Reply[WriteResult] = forward(request.reply, updated, translate)
        await self._store_ref.tell(
            StorePut(key, kind.encode(obj), reply, expect_mod_revision=expected)
        )

    async def _delete(self, request: Delete) -> None:
        kind: ResourceKind[Any] = kind_of(request.kind)
        namespace = (request.namespace or "default") if kind.namespaced else ""
        name = request.name

        def deleted(result: WriteResult) -> Resource:
            if result.prev_kv is None:
                raise ApiError.not_found(kind.plural, name)
            decoded: Resource = kind.decode(result.prev_kv.value, result.revision)
            return decoded

        reply: Reply[WriteResult] = forward(request.reply, deleted, _store_failure)
        await self._store_ref.tell(StoreDelete(kind.key(namespace, name), reply))

    def _validate(self, kind: ResourceKind[Any], obj: Resource) -> None:
        causes = validate(kind, obj)
        if causes:
            raise ApiError.invalid(kind.kind, obj.metadata.name, causes)

    # -- reads -------------------------------------------------------------------

    async def _get(self, request: Get) -> None:
        kind: ResourceKind[Any] = kind_of(request.kind)
        namespace = (request.namespace or "default") if kind.namespaced else ""
        name = request.name

        def found(kv: KeyValue | None) -> Resource:
            if kv is None:
                raise ApiError.not_found(kind.plural, name)
            decoded: Resource = kind.decode(kv.value, kv.mod_revision)
            return decoded

        reply: Reply[KeyValue | None] = forward(request.reply, found, _store_failure)
        await self._store_ref.tell(StoreGet(kind.key(namespace, name), reply))

    async def _list(self, request: List) -> None:
        kind: ResourceKind[Any] = kind_of(request.kind)
        prefix = kind.prefix(request.namespace)

        def listed(result: RangeResult) -> ObjectList[Any]:
            return ObjectList(
                kind=f"{kind.kind}List",
                metadata=ListMeta(resource_version=str(result.revision)),
                items=[kind.decode(kv.value, kv.mod_revision) for kv in result.kvs],
            )

        reply: Reply[RangeResult] = forward(request.reply, listed, _store_failure)
        await self._store_ref.tell(StoreRange(prefix, prefix_end(prefix), reply))

    def _watch(self, request: Watch) -> None:
        kind: ResourceKind[Any] = kind_of(request.kind)
        version = request.resource_version
        start = 0 if version in ("", "0") else _parse_resource_version(kind, "", version, "watch")
        self.context.start_soon(lambda: self._open_watch(kind, request, start))

    async def _open_watch(self, kind: ResourceKind[Any], request: Watch, start: int) -> None:
        prefix = kind.prefix(request.namespace)
        try:
            initial: list[WatchEvent[Any]] = []
            if start == 0:
                listed = await self._store.range_prefix(prefix)
                initial = [
                    WatchEvent("ADDED", kind.decode(kv.value, kv.mod_revision)) for kv in listed.kvs
                ]
                start = listed.revision
            stream = await self._store.watch_prefix(prefix, start_revision=start + 1)
        except Exception as error:
            request.reply.fail(_store_failure(error))
            return
        request.reply.send(ApiWatch(kind, stream, initial, self._decoded))


def _parse_resource_version(
    kind: ResourceKind[Any], name: str, version: str, verb: str = "update"
) -> int:
    if not version:
        raise ApiError.invalid(
            kind.kind,
            name,
            [
                StatusCause(
                    reason="FieldValueInvalid",
                    field="metadata.resourceVersion",
                    message=f'Invalid value: "": must be specified for an {verb}',
                )
            ],
        )
    try:
        revision = int(version)
    except ValueError:
        revision = -1
    if revision < 0:
        if verb == "watch":
            raise bad_request(f"resourceVersion: Invalid value: {version!r}: not a revision")
        raise ApiError.invalid(
            kind.kind,
            name,
            [
                StatusCause(
                    reason="FieldValueInvalid",
                    field="metadata.resourceVersion",
                    message=f'Invalid value: "{version}": must be a non-negative integer',
                )
            ],
        )
    return revision


def _store_failure(error: BaseException) -> BaseException:
    if isinstance(error, ApiError):
        return error
    if isinstance(error, CompactedError):
        return ApiError.expired(str(error))
    if isinstance(error, RequestTooLargeError):
        return ApiError.too_large(str(error))
    logger.warning("store request failed: %s", error)
    return internal_error(f"storage error: {error}")
