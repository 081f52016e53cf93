"""The API server actor: authenticates, authorises, admits, validates, names and
versions objects of every registered kind, and persists them in the store."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import anyio
import msgspec

from ..actors import Actor, ActorRef, Reply
from ..store import (
    CompactedError,
    ConflictError,
    KeyValue,
    PutMany,
    RangeResult,
    Store,
    StoreRequest,
    WatchCancelledError,
    WriteResult,
    prefix_end,
)
from ..store import Delete as StoreDelete
from ..store import EventType as StoreEventType
from ..store import Get as StoreGet
from ..store import Put as StorePut
from ..store import Range as StoreRange
from ._access import answer_review
from ._admission import (
    DEFAULT_PLUGINS,
    AdmissionChain,
    AdmissionPlugin,
    AdmissionRequest,
    Operation,
)
from ._auth import ANONYMOUS, TokenAuthenticator, UserInfo
from ._authz import AlwaysAllow, Attributes, Authorizer
from ._bootstrap import bootstrap_objects, reconciled
from ._core import Binding, Namespace, Service
from ._crd import CustomResourceDefinition
from ._crd_rules import terminating
from ._crd_serving import CustomResources, mark_for_cleanup, unsupported_custom_patch
from ._custom import (
    CRD_FINALIZER,
    CustomResourceKind,
    custom_scale,
    custom_with_replicas,
    normalize_custom,
)
from ._decoding import unknown_fields
from ._defaults import PENDING_POD_STATUS, apply_defaults, has_defaults
from ._kinds import (
    KINDS,
    KindRegistry,
    Resource,
    ResourceKind,
    UnknownKindError,
    kind_of,
    object_key,
)
from ._memo import RecentResults
from ._messages import (
    ApiRequest,
    Bind,
    BindMany,
    Create,
    Delete,
    Get,
    GetScale,
    List,
    Patch,
    Update,
    UpdateMany,
    UpdateScale,
    Watch,
)
from ._meta import (
    NAME_SUFFIXES,
    ApiObject,
    ListMeta,
    ObjectList,
    WatchEvent,
    format_time,
    name_suffix,
    random_uids,
)
from ._paging import decode_continue, encode_continue
from ._patch import apply_patch
from ._pod import Pod, PodCondition, PodSpec
from ._resource_version import with_resource_version
from ._reviews import REVIEW_TYPES
from ._selectors import parse_field_selector, parse_label_selector
from ._state import POLICY_KINDS, ClusterState
from ._status import ApiError, StatusCause, bad_request
from ._update_many import BatchAnswer, BatchAnswers
from ._validation import Validator, validate_pod, validator
from ._watch import ApiWatch, DecodeCache
from ._writes import mark_deleted, merge_update, scale_of, with_replicas
from ._written import (
    BatchWrittenReply,
    CreatedReply,
    WrittenReply,
    ignored_reply,
    store_failure,
    update_failure,
)

__all__ = ["ApiServer"]

logger = logging.getLogger(__name__)

replace = msgspec.structs.replace

_RETRIES = 8
# Without security (embedding, tests) namespaces need not be created before use.
_EMBEDDED_PLUGINS = tuple(p for p in DEFAULT_PLUGINS if p != "NamespaceLifecycle")
_SCALABLE = ("deployments", "replicasets", "replicationcontrollers")
# How often a CRD being deleted looks whether its objects' finalizers have let go.
_CLEANUP_POLL_SECONDS = 0.2
_REVIEWS = frozenset(REVIEW_TYPES)
_SECOND = timedelta(seconds=1)
_POLICY_KINDS = frozenset(POLICY_KINDS)
# The kinds whose writes change how the server decides (the policy kinds, the CRDs).
_DECIDING_KINDS = _POLICY_KINDS | {CustomResourceDefinition}
# Uids are drawn this many at a time (the same as one draw each, but for the order
# of the draws among the server's others: generated names, cluster IPs).
_UID_BATCH = 64
_ENCODER = msgspec.json.Encoder()
# A pod's JSON up to its metadata, as `ResourceKind.encode` writes every field.
_POD_PREFIX = b'{"apiVersion":"v1","kind":"Pod","metadata":'
# The status every pod created without one is stored with (one object: see
# `EMPTY_POD_STATUS`).
_PENDING_JSON = _ENCODER.encode(PENDING_POD_STATUS)


class ApiServer(Actor[ApiRequest]):
    """Serves every kind in the registry: create, get, list, update, patch, delete,
    watch, and the status, scale and binding subresources.

    Creates, gets, lists and updates whose stored version the server has at hand are
    checked, encoded once and forwarded to the store with a reply that turns its
    answer into the caller's; `receive` never waits on the store for them. Writes
    that must read the stored object first (patch, delete, bind, scale) run in a
    background task each.

    Security: with no `authorizer` every request is allowed, anonymous or not (as
    `--authorization-mode=AlwaysAllow`, for embedding and tests); with one, each
    request must name a `user` or carry a `token` the `authenticator` knows (else
    401) and be allowed by the authoriser (else 403). The admission chain defaults
    to upstream's plugins, less NamespaceLifecycle when there is no authoriser (so
    an embedded server takes objects in any namespace). `compat_updates` lets a
    main-resource update change a pod's status and `spec.nodeName` (as components
    that do not yet use the status and binding subresources need); turned off, the
    server keeps Kubernetes' rules. With `shared_store` (an etcd cluster other API
    servers write to as well), the server follows the policy objects it decides by
    (namespaces, RBAC, priority classes, quotas, limit ranges) with store watches,
    instead of knowing only its own writes to them.
    """

    mailbox_size = 8192

    def __init__(
        self,
        store: ActorRef[StoreRequest],
        *,
        wall_clock: Callable[[], datetime],
        authenticator: TokenAuthenticator | None = None,
        authorizer: Authorizer | None = None,
        admission: Sequence[AdmissionPlugin | str] | None = None,
        bootstrap: bool = True,
        compat_updates: bool = True,
        kinds: KindRegistry | None = None,
        shared_store: bool = False,
    ) -> None:
        self._store_ref = store
        self._store = Store(store)
        self._wall_clock = wall_clock
        self._decoded = DecodeCache()
        self._authenticator = authenticator
        self._authorizer: Authorizer = authorizer if authorizer is not None else AlwaysAllow()
        self._secure = authorizer is not None
        if admission is None:
            admission = DEFAULT_PLUGINS if self._secure else _EMBEDDED_PLUGINS
        self._admission = AdmissionChain(admission)
        self._bootstrap = bootstrap
        self._compat = compat_updates
        self._shared = shared_store
        self.state = ClusterState()
        # The kinds served, built-in and custom: shared with the HTTP layer, which
        # serves a CRD's kinds from the moment this server registers them.
        self.kinds = kinds if kinds is not None else KindRegistry(KINDS)
        self.custom = CustomResources(self.kinds)
        self._quota_locks: dict[str, anyio.Lock] = {}
        # The second last formatted: its start, its end and its text.
        self._formatted: tuple[datetime, datetime, str] | None = None
        # The time formatted in this turn of the event loop (None: not read yet).
        self._turn_time: str | None = None
        self._uids: list[str] = []  # drawn, not yet given (the next last)
        # The JSON of the last few pod specs created (b"": seen once, not encoded apart).
        self._spec_json: RecentResults[PodSpec, bytes] = RecentResults()
        # While an `UpdateMany` is handled: its updates' writes, sent as one `PutMany`.
        self._batched_puts: list[StorePut] | None = None
        # The writes of the creates handled in this turn of the event loop (`_hold_create`),
        # and while the store's mailbox has no room for them, the event of their arrival.
        self._held_creates: list[StorePut] | None = None
        self._creates_backlog: anyio.Event | None = None
        self._rules: dict[ResourceKind[Any], _KindRules] = {}
        # The rules of the kind of each type updated, found without the registry's
        # (interpreted) `of_type`; forgotten whenever the registry changes.
        self._rules_by_type: dict[type[Any], _KindRules] = {}
        self._kinds_listener: Callable[[Any, Any], None] = self._kinds_changed

    # -- start -------------------------------------------------------------------

    async def on_start(self) -> None:
        self.kinds.subscribe(self._kinds_listener)
        for resource_type in POLICY_KINDS:
            kind = kind_of(resource_type)
            revision = await self._load(kind)
            if self._shared:
                self.context.start_soon(partial(self._follow, kind, revision))
        crds: ResourceKind[CustomResourceDefinition] = kind_of(CustomResourceDefinition)
        listed = await self._store.range_prefix(crds.registry)
        for kv in listed.kvs:
            crd = crds.decode(kv.value, kv.mod_revision)
            self.custom.serve(crd)
            if crd.metadata.deletion_timestamp is not None:
                self._start_cleanup(crd.metadata.name)
        if self._shared:
            self.context.start_soon(partial(self._follow, crds, listed.revision))
        if self._bootstrap:
            await self._create_missing(bootstrap_objects())

    async def on_stop(self) -> None:
        self.kinds.unsubscribe(self._kinds_listener)

    def _kinds_changed(self, added: Any, removed: Any) -> None:
        self._rules_by_type.clear()  # a type's kind may be another now, or none

    async def _load(self, kind: ResourceKind[Any]) -> int:
        """Read every object of a kind the server decides by (the policy kinds, the
        CRDs); returns the revision read at."""
        listed = await self._store.range_prefix(kind.registry)
        for kv in listed.kvs:
            obj = kind.decode(kv.value, kv.mod_revision)
            self._observed(kind, object_key(obj), kv.mod_revision, obj)
        return listed.revision

    def _observed(self, kind: ResourceKind[Any], key: str, revision: int, obj: Any) -> None:
        """A policy object or CRD as stored at `revision` (None: deleted)."""
        if ClusterState.tracks(kind.type):
            self.state.apply(kind.type, key, revision, obj)
        elif kind.type is CustomResourceDefinition:
            if obj is None:
                self.custom.unserve(key)
            else:
                self.custom.serve(obj)

    async def _follow(self, kind: ResourceKind[Any], revision: int) -> None:
        """Keep the objects of `kind` current with every write to the store, so that API
        servers sharing one store (an etcd cluster) decide alike: a Role written
        through one authorises requests to the others, a CRD created through one is
        served by all."""
        prefix = kind.registry
        while True:
            try:
                stream = await self._store.watch_prefix(
                    prefix, start_revision=revision + 1, prev_kv=False
                )
                async for batch in stream:
                    for event in batch:
                        kv = event.kv
                        key = kv.key[len(prefix) :].decode()
                        deleted = event.type is StoreEventType.DELETE
                        obj = None if deleted else kind.decode(kv.value, kv.mod_revision)
                        self._observed(kind, key, kv.mod_revision, obj)
                        revision = kv.mod_revision
                return  # the store is closing
            except WatchCancelledError:
                revision = await self._load(kind)  # compacted meanwhile: relist
            except Exception as error:
                logger.warning("following %s failed (%s); again in 1 s", kind.plural, error)
                await self.context.clock.sleep(1.0)

    async def _create_missing(self, objects: list[ApiObject]) -> None:
        for obj in objects:
            kind = kind_of(type(obj))
            key = kind.key(obj.metadata.namespace, obj.metadata.name)
            existing = await self._store.get(key)
            if existing is not None:
                stored = kind.decode(existing.value, existing.mod_revision)
                wanted = reconciled(stored, obj)
                if wanted is not None:
                    # A default role of an older release: add what it lacks, as
                    # upstream's RBAC bootstrap does (unless autoupdate is "false").
                    try:
                        result = await self._store.put(
                            key, kind.encode(wanted), expect_mod_revision=existing.mod_revision
                        )
                    except ConflictError:
                        continue
                    self._written(kind, key, result.revision, wanted)
                continue
            prepared = self._prepare_create(kind, obj, obj.metadata.name, obj.metadata.namespace)
            try:
                result = await self._store.put(key, kind.encode(prepared), expect_mod_revision=0)
            except ConflictError:
                continue
            self._written(kind, key, result.revision, prepared)

    # -- dispatch ----------------------------------------------------------------

    async def receive(self, message: ApiRequest) -> None:
        if isinstance(message, UpdateMany):
            self._update_many(message)
            return
        if isinstance(message, BindMany):
            for bind in message.binds:
                try:
                    self._bind(bind, self._authenticate(bind.user, bind.token))
                except ApiError as error:
                    bind.reply.fail(error)
            return
        # Gets and lists answer with a store request to pass on (creates: `_hold_create`).
        forward: StoreRequest | None = None
        try:
            user = self._authenticate(message.user, message.token)
            match message:
                # The most frequent requests first (heartbeats, status; creates): one test.
                case Update() if type(message.obj) not in _REVIEWS:
                    self._update(message, user, message.reply)
                case Create() if type(message.obj) not in _REVIEWS:
                    if self._creates_backlog is not None:
                        await self._creates_backlog.wait()  # backpressure: the store is full
                    put = self._create(message, user)
                    if put is not None:
                        self._hold_create(put)
                case Create():
                    self._review(message, user)
                case Get() | List() | Update() | Patch() | Delete() | Watch() if (
                    _kind_type(message) in _REVIEWS
                ):
                    raise _create_only(_kind_type(message))
                case Get():
                    forward = self._get(message, user)
                case List():
                    forward = self._list(message, user)
                case Update():
                    self._update(message, user, message.reply)
                case Patch():
                    self._patch(message, user)
                case Delete():
                    self._delete(message, user)
                case Watch():
                    self._watch(message, user)
                case Bind():
                    self._bind(message, user)
                case GetScale() | UpdateScale():
                    self._scale(message, user)
        except ApiError as error:
            message.reply.fail(error)
            return
        except UnknownKindError as error:
            message.reply.fail(bad_request(str(error)))
            return
        # Waiting for room in the store's mailbox holds this one's back (backpressure).
        if forward is not None and not self._store_ref.try_tell(forward):
            await self._store_ref.tell(forward)

    def _authenticate(self, user: UserInfo | None, token: str) -> UserInfo:
        if token:
            found = self._authenticator.authenticate(token) if self._authenticator else None
            if found is None:
                raise ApiError.unauthorized()
            return found
        if user is not None:
            return user
        if self._secure:
            raise ApiError.unauthorized()
        return ANONYMOUS

    def _review(self, request: Create, user: UserInfo) -> None:
        """A review is answered at once from the policy the server holds, never stored."""
        review = request.obj
        kind: ResourceKind[Any] = kind_of(type(review))
        namespace = review.metadata.namespace if kind.namespaced else ""
        self._authorize(user, "create", kind, namespace)
        answered = answer_review(
            review,
            user,
            authorizer=self._authorizer,
            authenticator=self._authenticator,
            state=self.state,
        )
        request.reply.send(answered)

    def _authorize(
        self,
        user: UserInfo,
        verb: str,
        kind: ResourceKind[Any],
        namespace: str = "",
        name: str = "",
        subresource: str = "",
    ) -> None:
        if not self._secure:
            return  # AlwaysAllow: no attributes to build for every request
        attributes = Attributes(
            user,
            verb,
            kind.group,
            kind.plural,
            subresource,
            namespace if kind.namespaced else "",
            name,
        )
        if not self._authorizer.authorize(attributes, self.state):
            what = f"{kind.plural}/{subresource}" if subresource else kind.plural
            raise ApiError.forbidden(what, name, attributes.describe)

    def _namespace(self, kind: ResourceKind[Any], namespace: str) -> str:
        return (namespace or "default") if kind.namespaced else ""

    def _admit(
        self,
        operation: Operation,
        kind: ResourceKind[Any],
        obj: ApiObject,
        old: ApiObject | None,
        user: UserInfo,
        subresource: str = "",
        namespace_objects: Sequence[ApiObject] = (),
        plugins: tuple[AdmissionPlugin, ...] | None = None,
    ) -> ApiObject:
        """`obj` through the admission plugins concerned (`plugins`: those, when the
        caller has them at hand)."""
        if plugins is None:
            plugins = self._admission.concerned(operation, kind)
        if not plugins:
            return obj  # no plugin acts on such a write (a Lease renewal): no request made
        request = AdmissionRequest(
            operation, kind, obj, old, user, self.state, subresource, namespace_objects
        )
        return self._admission.admit(request, plugins)

    def _rules_of(self, kind: ResourceKind[Any]) -> _KindRules:
        rules = self._rules.get(kind)
        if rules is None:
            if len(self._rules) >= _RULES_KEPT:
                self._rules.clear()  # kinds come and go with CRDs: keep the ones in use
            rules = self._rules[kind] = _KindRules(kind, self._admission, self.custom)
        return rules

    def _rules_of_type(self, resource_type: type[Any]) -> _KindRules:
        """The rules of the kind served for `resource_type` (`UnknownKindError`: none)."""
        rules = self._rules_by_type.get(resource_type)
        if rules is None:
            kind: ResourceKind[Any] = self.kinds.of_type(resource_type)
            rules = self._rules_by_type[resource_type] = self._rules_of(kind)
        return rules

    def _validate(self, rules: _KindRules, obj: ApiObject) -> None:
        causes = rules.validate(obj)
        if causes:
            raise self.custom.invalid(rules.kind, obj.metadata.name, causes)

    def _written(self, kind: ResourceKind[Any], key: bytes, revision: int, obj: Any) -> Any:
        """Bookkeeping after a successful write: the object at its new version."""
        stored = with_resource_version(obj, revision)
        self._decoded.remember(key, revision, stored)
        # Nearly never: one check for both below (of the object's type, which is its
        # kind's, without reading the kind's).
        if type(stored) in _DECIDING_KINDS:
            if kind.type in _POLICY_KINDS:
                self.state.apply(kind.type, object_key(stored), revision, stored)
            elif isinstance(stored, CustomResourceDefinition):
                self.custom.serve(stored)
        return stored

    def _removed(self, kind: ResourceKind[Any], obj: Any, revision: int) -> Any:
        self._decoded.forget(kind.key(obj.metadata.namespace, obj.metadata.name))
        if ClusterState.tracks(kind.type):
            self.state.apply(kind.type, object_key(obj), revision, None)
        elif isinstance(obj, CustomResourceDefinition):
            self.custom.unserve(obj.metadata.name)
        return with_resource_version(obj, revision)

    # -- create ------------------------------------------------------------------

    def _prepare_create(
        self, kind: ResourceKind[Any], obj: ApiObject, name: str, namespace: str
    ) -> ApiObject:
        uids = self._uids
        if not uids:
            bits = self.context.random.getrandbits(128 * _UID_BATCH)
            uids = self._uids = random_uids(bits, _UID_BATCH)
        meta = replace(
            obj.metadata,
            name=name,
            namespace=namespace,
            uid=uids.pop(),
            resource_version="",
            generation=1,
            creation_timestamp=self._now(),
            deletion_timestamp=None,
            deletion_grace_period_seconds=None,
        )
        prepared = apply_defaults(obj, meta)
        if type(prepared) is Pod:
            return prepared  # the commonest create, and none of the kinds below
        if isinstance(kind, CustomResourceKind):
            prepared = normalize_custom(kind, prepared, creating=True)
        elif isinstance(prepared, CustomResourceDefinition):
            prepared = self.custom.prepare(prepared, self._now())
        if isinstance(prepared, Service):
            prepared = self._allocate_cluster_ip(prepared)
        return prepared

    def _now(self) -> str:
        """The wall time as Kubernetes writes it, formatted once per second.

        The clock is read once per turn of the event loop: the requests handled in
        one go (a batch of creates or bindings) are stamped alike, as if handled at
        its start, and a request after any wait reads it afresh.
        """
        text = self._turn_time
        if text is not None:
            return text
        now = self._wall_clock()
        cached = self._formatted
        if cached is None or not cached[0] <= now < cached[1]:
            moment = now.replace(microsecond=0)
            cached = self._formatted = (moment, moment + _SECOND, format_time(moment))
        text = self._turn_time = cached[2]
        asyncio.get_running_loop().call_soon(self._next_turn)
        return text

    def _next_turn(self) -> None:
        self._turn_time = None

    def _allocate_cluster_ip(self, service: Service) -> Service:
        spec = service.spec
        if spec.cluster_ip or spec.type == "ExternalName":
            return service
        # A random address in 10.96.0.0/12, as the service CIDR's allocator would pick.
        host = self.context.random.randrange(1, (1 << 20) - 1)
        address = f"10.{96 + (host >> 16)}.{(host >> 8) & 255}.{host & 255}"
        return replace(service, spec=replace(spec, cluster_ip=address, cluster_ips=[address]))

    def _create(self, request: Create, user: UserInfo) -> StorePut | None:
        obj = request.obj
        kind: ResourceKind[Any] = self.kinds.of_type(type(obj))
        meta = obj.metadata
        namespace = self._namespace(kind, meta.namespace)
        if self._secure:
            self._authorize(user, "create", kind, namespace)
        if self.custom.terminating:
            self.custom.check_create(kind)
        name = meta.name
        generated = not name and bool(meta.generate_name)
        if generated:
            name = meta.generate_name + name_suffix(self.context.random.randrange(NAME_SUFFIXES))
        prepared = self._prepare_create(kind, obj, name, namespace)
        admitted = self._admission.admit_create(kind, prepared, user, self.state)
        if admitted is None:  # a quota counts the namespace's objects: read them first
            self.context.start_soon(lambda: self._create_counted(request, kind, prepared, user))
            return None
        if type(admitted) is Pod:
            # `_validate`, `kind.key` and `kind.encode` for the commonest create, with
            # fewer calls.
            causes = validate_pod(admitted)
            if causes:
                raise ApiError.invalid(kind.kind, name, causes)
            key = kind.key(namespace, name)
            data = self._pod_bytes(admitted)
        else:
            self._validate(self._rules_of(kind), admitted)
            key = kind.key(namespace, name)
            data = kind.encode(admitted)
        reply = CreatedReply(self, kind, key, admitted, request, generated)
        return StorePut(key, data, reply, expect_mod_revision=0)

    def _pod_bytes(self, pod: Pod) -> bytes:
        """The pod as `kind.encode` writes it; the JSON of a spec met before (pods from
        one template share their admitted spec) is spliced in, not encoded again."""
        spec = self._spec_json.same(pod.spec)
        if spec is None or pod.api_version != "v1" or pod.kind != "Pod":
            if spec is None:
                # Remembered as seen (b""); encoded apart only if it comes again.
                self._spec_json.put(pod.spec, b"")
            return _ENCODER.encode(pod)
        if not spec:
            spec = _ENCODER.encode(pod.spec)
            self._spec_json.put(pod.spec, spec)
        return b"".join(
            (
                _POD_PREFIX,
                _ENCODER.encode(pod.metadata),
                b',"spec":',
                spec,
                b',"status":',
                _PENDING_JSON if pod.status is PENDING_POD_STATUS else _ENCODER.encode(pod.status),
                b"}",
            )
        )

    async def _create_counted(
        self, request: Create, kind: ResourceKind[Any], prepared: ApiObject, user: UserInfo
    ) -> None:
        """A create in a namespace with quotas: read its usage, admit and write, one at
        a time per namespace so that two creates cannot both take the last room."""
        namespace = prepared.metadata.namespace
        lock = self._quota_locks.setdefault(namespace, anyio.Lock())
        try:
            async with lock:
                listed = await self._store.range_prefix(kind.prefix(namespace))
                existing = [kind.decode(kv.value, kv.mod_revision) for kv in listed.kvs]
                admitted = self._admit("CREATE", kind, prepared, None, user, "", existing)
                self._validate(self._rules_of(kind), admitted)
                key = kind.key(namespace, admitted.metadata.name)
                try:
                    result = await self._store.put(
                        key, kind.encode(admitted), expect_mod_revision=0
                    )
                except ConflictError:
                    raise ApiError.already_exists(kind.plural, admitted.metadata.name) from None
                request.reply.send(self._written(kind, key, result.revision, admitted))
        except Exception as error:
            request.reply.fail(store_failure(error))

    # -- reads -------------------------------------------------------------------

    def _get(self, request: Get, user: UserInfo) -> StoreRequest:
        kind: ResourceKind[Any] = self.kinds.of_type(request.kind)
        namespace = self._namespace(kind, request.namespace)
        name = request.name
        self._authorize(user, "get", kind, namespace, name)

        def found(kv: KeyValue | None) -> Resource:
            if kv is None:
                raise ApiError.not_found(kind.plural, name)
            decoded: Resource = cache.decode(kind, kv.key, kv.value, kv.mod_revision)
            return decoded

        cache = self._decoded
        reply: Reply[KeyValue | None] = request.reply.forward(found, store_failure)
        return StoreGet(kind.key(namespace, name), reply)

    def _predicate(
        self, kind: ResourceKind[Any], label_selector: str, field_selector: str
    ) -> Callable[[Any], bool] | None:
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, kind.kind)
        if labels.empty and fields.empty:
            return None
        return lambda obj: labels.matches(obj.metadata.labels) and fields.matches(obj)

    def _list(self, request: List, user: UserInfo) -> StoreRequest:
        kind: ResourceKind[Any] = self.kinds.of_type(request.kind)
        namespace = request.namespace if kind.namespaced else ""
        self._authorize(user, "list", kind, namespace)
        if request.limit < 0:
            raise bad_request(f"limit: Invalid value: {request.limit}: must not be negative")
        predicate = self._predicate(kind, request.label_selector, request.field_selector)
        prefix = kind.prefix(namespace)
        end = prefix_end(prefix)
        start, revision = prefix, 0
        if request.continue_:
            revision, start = decode_continue(request.continue_, prefix)
        limit = request.limit

        def listed(result: RangeResult) -> ObjectList[Any]:
            # Objects written or watched lately are in the decode cache already.
            decode = self._decoded.decode
            items = [decode(kind, kv.key, kv.value, kv.mod_revision) for kv in result.kvs]
            if predicate is not None:
                items = [item for item in items if predicate(item)]
            token, remaining = "", None
            # A page read at the first page's revision reports that revision.
            read_at = revision or result.revision
            if result.more and result.kvs:
                token = encode_continue(read_at, result.kvs[-1].key + b"\0", prefix)
                if predicate is None:
                    remaining = result.count - len(result.kvs)
            return ObjectList(
                api_version=kind.api_version,
                kind=kind.list_kind,
                metadata=ListMeta(
                    resource_version=str(read_at),
                    continue_=token,
                    remaining_item_count=remaining,
                ),
                items=items,
            )

        def failed(error: BaseException) -> BaseException:
            if isinstance(error, CompactedError) and request.continue_:
                return ApiError.expired(
                    "The provided continue parameter is too old to display a consistent "
                    "list result. You can start a new list without the continue parameter."
                )
            return store_failure(error)

        reply: Reply[RangeResult] = request.reply.forward(listed, failed)
        return StoreRange(start, end, reply, limit=limit, revision=revision)

    def _watch(self, request: Watch, user: UserInfo) -> None:
        kind: ResourceKind[Any] = self.kinds.of_type(request.kind)
        namespace = request.namespace if kind.namespaced else ""
        self._authorize(user, "watch", kind, namespace)
        version = request.resource_version
        start = 0 if version in ("", "0") else _parse_resource_version(kind, "", version, "watch")
        predicate = self._predicate(kind, request.label_selector, request.field_selector)
        self.context.start_soon(
            lambda: self._open_watch(kind, namespace, request, start, predicate)
        )

    async def _open_watch(
        self,
        kind: ResourceKind[Any],
        namespace: str,
        request: Watch,
        start: int,
        predicate: Callable[[Any], bool] | None,
    ) -> None:
        prefix = kind.prefix(namespace)
        try:
            initial: list[WatchEvent[Any]] = []
            if start == 0:
                listed = await self._store.range_prefix(prefix)
                objects = [kind.decode(kv.value, kv.mod_revision) for kv in listed.kvs]
                initial = [
                    WatchEvent("ADDED", obj)
                    for obj in objects
                    if predicate is None or predicate(obj)
                ]
                start = listed.revision
            stream = await self._store.watch(
                prefix,
                prefix_end(prefix),
                start_revision=start + 1,
                progress_notify=request.allow_bookmarks,
            )
        except Exception as error:
            request.reply.fail(store_failure(error))
            return
        watch = ApiWatch(
            kind,
            stream,
            initial,
            self._decoded,
            predicate=predicate,
            bookmarks=request.allow_bookmarks,
        )
        self.custom.track(kind, watch)
        request.reply.send(watch)

    # -- update ------------------------------------------------------------------

    def _update(
        self, request: Update, user: UserInfo, reply: Reply[Any] | BatchAnswers, index: int = 0
    ) -> None:
        """Check `request` and forward its write; `reply` (the request's own) gets the
        answer, or for an update of a batch, its place `index` in the batch's answers
        (no reply made for it unless the write cannot go at once)."""
        obj = request.obj
        rules = self._rules_by_type.get(type(obj)) or self._rules_of_type(type(obj))
        kind = rules.kind
        meta = obj.metadata
        name = meta.name
        sent_namespace = meta.namespace
        namespace = (sent_namespace or "default") if rules.namespaced else ""
        subresource = request.subresource
        if subresource:
            if subresource != "status":
                raise ApiError.method_not_allowed(
                    f"update of {kind.plural}/{subresource} is not supported"
                )
            if not rules.has_status:
                raise ApiError.not_found(f"{kind.plural}/status", name)
        if self._secure:
            self._authorize(user, "update", kind, namespace, name, subresource)
        expected = _parse_resource_version(kind, name, meta.resource_version)
        key = rules.key(namespace, name)
        if sent_namespace != namespace:
            obj = replace(obj, metadata=replace(meta, namespace=namespace))
        old = self._decoded.peek(key, expected)
        if old is not None and type(old) is type(obj):
            # The version the client read is at hand: check and forward, no read needed.
            stored = self._updated(kind, old, obj, user, subresource, rules)
            self._send_put(kind, key, stored, old, expected, reply, index)
            return
        upstream = BatchAnswer(reply, index) if isinstance(reply, BatchAnswers) else reply
        self.context.start_soon(
            lambda: self._update_read_first(request, kind, key, obj, user, upstream)
        )

    def _update_many(self, request: UpdateMany) -> None:
        """Each update of `request` handled as if it came alone (its own user,
        authorisation, admission, validation, version check and answer), in order;
        their writes go to the store in one message, each still its own write."""
        updates = request.updates
        if not updates:
            request.reply.send([])
            return
        answers = BatchAnswers(len(updates), request.reply)
        # Each token is looked up once per batch; a named user needs no lookup (each
        # node's renewal of a heartbeat batch names its own).
        tokens: dict[str, UserInfo] = {}
        self._batched_puts = []
        try:
            for index, update in enumerate(updates):
                try:
                    token = update.token
                    user: UserInfo | None = update.user
                    if token:
                        found = tokens.get(token)
                        if found is None:
                            found = tokens[token] = self._authenticate(user, token)
                        user = found
                    elif user is None:
                        user = self._authenticate(user, token)
                    if type(update.obj) in _REVIEWS:
                        raise _create_only(type(update.obj))
                    self._update(update, user, answers, index)
                except ApiError as error:
                    BatchAnswer(answers, index).fail(error)
                except UnknownKindError as error:
                    BatchAnswer(answers, index).fail(bad_request(str(error)))
        finally:
            self._flush_batched_puts()
            self._batched_puts = None

    def _updated(
        self,
        kind: ResourceKind[Any],
        old: Any,
        obj: ApiObject,
        user: UserInfo,
        subresource: str,
        rules: _KindRules | None = None,
    ) -> ApiObject:
        if rules is None:
            # `_rules_of`'s lookup first: a kind's rules are nearly always made already.
            rules = self._rules.get(kind) or self._rules_of(kind)
        merged = merge_update(
            kind,
            old,
            apply_defaults(obj) if rules.defaulted and not subresource else obj,
            subresource=subresource,
            keep_status=rules.custom or not self._compat,
            strict_pods=not self._compat,
        )
        if rules.custom or rules.crd:  # nearly never: one test for both below
            if isinstance(kind, CustomResourceKind):
                merged = self.custom.updated(kind, old, merged, subresource)
            elif isinstance(merged, CustomResourceDefinition):
                merged = self.custom.prepare(merged, self._now())
        plugins = rules.update_plugins
        # Most kinds' updates go through no plugin (a Lease, a Node): no call then.
        admitted = (
            self._admit("UPDATE", kind, merged, old, user, subresource, plugins=plugins)
            if plugins
            else merged
        )
        self._validate(rules, admitted)
        return admitted

    def _send_put(
        self,
        kind: ResourceKind[Any],
        key: bytes,
        stored: ApiObject,
        old: ApiObject,
        expected: int,
        upstream: Reply[Any] | BatchAnswers,
        index: int = 0,
    ) -> None:
        """Forward the conditional write of an update (or a delete, when the last
        finalizer of an object being deleted is gone); its answer goes to `upstream`,
        or to the place `index` in a batch's answers."""
        written: Reply[Any]
        if stored.metadata.deletion_timestamp is not None and _to_remove(stored):
            if isinstance(upstream, BatchAnswers):
                upstream = BatchAnswer(upstream, index)
            name = stored.metadata.name
            removed: Reply[WriteResult] = upstream.forward(
                lambda r: self._removed(kind, stored, r.revision),
                lambda error: update_failure(kind, name, error),
            )
            self._flush_batched_puts()  # the store sees the writes in their order
            self._tell_store(StoreDelete(key, removed, expect_mod_revision=expected))
            return
        if isinstance(upstream, BatchAnswers):
            written = BatchWrittenReply(self, kind, key, stored, upstream, index)
        else:
            written = WrittenReply(self, kind, key, stored, upstream)
        # The expected revision positionally: a struct made with no keyword to parse.
        put = StorePut(key, kind.encode(stored), written, expected)
        if self._batched_puts is not None:
            self._batched_puts.append(put)
        else:
            self._tell_store(put)

    def _hold_create(self, put: StorePut) -> None:
        """Send a create's write at the end of this turn of the event loop, with the
        other creates of the turn: the store takes them as one `PutMany`, each still
        its own write (its own check, revision, watch event and reply), for one
        message through the store's mailbox instead of one per create."""
        held = self._held_creates
        if held is None:
            held = self._held_creates = []
            asyncio.get_running_loop().call_soon(self._send_creates)
        held.append(put)

    def _send_creates(self) -> None:
        puts = self._held_creates
        self._held_creates = None
        if not puts:
            return
        message = puts[0] if len(puts) == 1 else PutMany(puts)
        if self._store_ref.try_tell(message):
            return
        # The store's mailbox is full: creates wait until this is in, as the server
        # waited before sending each create's write.
        backlog = self._creates_backlog = anyio.Event()

        async def send() -> None:
            try:
                await self._store_ref.tell(message)
            finally:
                self._creates_backlog = None
                backlog.set()

        self.context.start_soon(send)

    def _flush_batched_puts(self) -> None:
        """Send the writes of the batch collected so far, as one `PutMany`."""
        puts = self._batched_puts
        if puts:
            self._tell_store(PutMany(puts))
            self._batched_puts = []

    def _tell_store(self, message: StoreRequest) -> None:
        """Send without waiting when the store's mailbox has room (it nearly always
        has); otherwise wait for room in a task, not in `receive`."""
        if not self._store_ref.try_tell(message):
            self.context.start_soon(lambda: self._store_ref.tell(message))

    async def _update_read_first(
        self,
        request: Update,
        kind: ResourceKind[Any],
        key: bytes,
        obj: ApiObject,
        user: UserInfo,
        reply: Reply[Any],
    ) -> None:
        try:
            expected = int(obj.metadata.resource_version)
            kv = await self._store.get(key)
            if kv is None:
                raise ApiError.not_found(kind.plural, obj.metadata.name)
            if kv.mod_revision != expected:
                raise ApiError.conflict(kind.plural, obj.metadata.name)
            old = kind.decode(kv.value, kv.mod_revision)
            stored = self._updated(kind, old, obj, user, request.subresource)
        except Exception as error:
            reply.fail(store_failure(error))
            return
        self._send_put(kind, key, stored, old, expected, reply)

    # -- read-modify-write requests -------------------------------------------------

    async def _read_modify_write(
        self,
        kind: ResourceKind[Any],
        namespace: str,
        name: str,
        change: Callable[[Any], ApiObject | None],
        upstream: Reply[Any],
        *,
        answer: Callable[[Any], Any] = lambda obj: obj,
    ) -> None:
        """Read the object, compute its next state with `change` (None: nothing to
        write) and write it conditionally, again from a fresh read on a conflict."""
        key = kind.key(namespace, name)
        try:
            for _ in range(_RETRIES):
                kv = await self._store.get(key)
                if kv is None:
                    raise ApiError.not_found(kind.plural, name)
                old = kind.decode(kv.value, kv.mod_revision)
                new = change(old)
                if new is None:
                    upstream.send(answer(old))
                    return
                try:
                    if _to_remove(new):
                        deleted = await self._store.delete(key, expect_mod_revision=kv.mod_revision)
                        upstream.send(answer(self._removed(kind, new, deleted.revision)))
                    else:
                        result = await self._store.put(
                            key, kind.encode(new), expect_mod_revision=kv.mod_revision
                        )
                        upstream.send(answer(self._written(kind, key, result.revision, new)))
                    return
                except ConflictError:
                    continue
            raise ApiError.conflict(kind.plural, name)
        except Exception as error:
            upstream.fail(store_failure(error))

    def _patch(self, request: Patch, user: UserInfo) -> None:
        kind: ResourceKind[Any] = self.kinds.of_type(request.kind)
        namespace = self._namespace(kind, request.namespace)
        subresource = request.subresource
        if subresource not in ("", "status") or (subresource and not kind.has_status):
            raise ApiError.not_found(f"{kind.plural}/{subresource}", request.name)
        self._authorize(user, "patch", kind, namespace, request.name, subresource)
        if isinstance(kind, CustomResourceKind) and request.patch_type == "strategic":
            raise unsupported_custom_patch()

        def change(old: Any) -> ApiObject:
            document = msgspec.to_builtins(old)
            patched = apply_patch(document, request.patch, request.patch_type)
            unknown = unknown_fields(patched, kind.type)
            if unknown:
                detail = ", ".join(f'unknown field "{path}"' for path in unknown)
                raise bad_request(f"strict decoding error: {detail}")
            try:
                obj = msgspec.convert(patched, kind.type)
            except msgspec.ValidationError as error:
                raise _invalid_patch(kind, request.name, str(error)) from None
            version = obj.metadata.resource_version
            if version and version != old.metadata.resource_version:
                raise ApiError.conflict(kind.plural, request.name)
            return self._updated(kind, old, obj, user, subresource)

        self.context.start_soon(
            lambda: self._read_modify_write(kind, namespace, request.name, change, request.reply)
        )

    def _delete(self, request: Delete, user: UserInfo) -> None:
        kind: ResourceKind[Any] = self.kinds.of_type(request.kind)
        namespace = self._namespace(kind, request.namespace)
        name = request.name
        self._authorize(user, "delete", kind, namespace, name)
        policy = request.propagation_policy
        if policy not in ("", "Orphan", "Background", "Foreground"):
            raise bad_request(
                f"propagationPolicy: Unsupported value: {policy!r}: supported values: "
                '"Orphan", "Background", "Foreground"'
            )
        now = self._now()

        def change(old: Any) -> ApiObject | None:
            meta = old.metadata
            if request.precondition_uid and request.precondition_uid != meta.uid:
                raise ApiError.conflict(
                    kind.plural,
                    name,
                    f"Precondition failed: UID in precondition: {request.precondition_uid}, "
                    f"UID in object meta: {meta.uid}",
                )
            wanted = request.precondition_resource_version
            if wanted and wanted != meta.resource_version:
                raise ApiError.conflict(kind.plural, name)
            self._admit("DELETE", kind, old, old, user)
            if isinstance(old, Pod) and old.spec.node_name and not meta.finalizers:
                graceful = self._graceful(old, request.grace_period_seconds, now)
                if graceful is not None:
                    return graceful if graceful != old else None
            if isinstance(old, CustomResourceDefinition) and meta.deletion_timestamp is None:
                old = terminating(mark_for_cleanup(old), now)
            marked, stays = mark_deleted(old, now, policy)
            if not stays:
                gone: ApiObject = replace(
                    old,
                    metadata=replace(
                        meta,
                        deletion_timestamp=meta.deletion_timestamp or now,
                        deletion_grace_period_seconds=0,
                    ),
                )
                return gone
            if marked == old:
                return None  # being deleted already: nothing more to do
            return marked

        def answer(obj: Any) -> Any:
            if isinstance(obj, Namespace) and obj.status.phase == "Terminating":
                self.context.start_soon(lambda: self._finalize_namespace(obj.metadata.name))
            if (
                isinstance(obj, CustomResourceDefinition)
                and CRD_FINALIZER in obj.metadata.finalizers
            ):
                self.custom.terminating.add(obj.metadata.name)
                self._start_cleanup(obj.metadata.name)
            return obj

        self.context.start_soon(
            lambda: self._read_modify_write(
                kind, namespace, name, change, request.reply, answer=answer
            )
        )

    def _graceful(self, pod: Pod, grace: int | None, now: str) -> Pod | None:
        """A bound pod's graceful deletion: the pod marked for its kubelet (itself if
        marked already), or None to remove it now (grace 0; in compat mode, whenever no
        grace period is asked for, as before graceful deletion)."""
        meta = pod.metadata
        if grace is None:
            if self._compat:
                return None
            grace = pod.spec.termination_grace_period_seconds
            grace = 30 if grace is None else grace
        if grace <= 0:
            return None
        if meta.deletion_timestamp is not None:
            current = meta.deletion_grace_period_seconds or 0
            if grace >= current:
                return pod
        marked = replace(meta, deletion_timestamp=now, deletion_grace_period_seconds=grace)
        return replace(pod, metadata=marked)

    async def _finalize_namespace(self, namespace: str) -> None:
        """What the namespace controller does: delete everything in a terminating
        namespace, then let the namespace itself go."""
        try:
            prefixes: set[bytes] = set()
            for kind in self.kinds:
                # The versions of a custom kind share their objects: one pass for all.
                if not kind.namespaced or kind.registry in prefixes or "delete" not in kind.verbs:
                    continue
                prefixes.add(kind.registry)
                listed = await self._store.range_prefix(kind.prefix(namespace))
                for kv in listed.kvs:
                    obj = kind.decode(kv.value, kv.mod_revision)
                    done: Reply[Any] = ignored_reply().forward(lambda value: value, lambda e: None)
                    await self._read_modify_write(
                        kind,
                        namespace,
                        obj.metadata.name,
                        lambda old: _deleted_by_namespace(old, format_time(self._wall_clock())),
                        done,
                    )
            namespaces = kind_of(Namespace)

            def release(old: Any) -> ApiObject | None:
                if not old.spec.finalizers:
                    return None
                released: ApiObject = replace(old, spec=replace(old.spec, finalizers=[]))
                return released

            await self._read_modify_write(namespaces, "", namespace, release, ignored_reply())
        except Exception:
            logger.exception("finalizing namespace %s failed", namespace)

    def _start_cleanup(self, name: str) -> None:
        self.context.start_soon(lambda: self._clean_up_crd(name))

    async def _clean_up_crd(self, name: str) -> None:
        """What upstream's finalizing controller does for a CRD being deleted: delete
        its custom objects (each waits for its own finalizers), then let the CRD go,
        which stops its kinds being served."""
        kinds = self.custom.kinds_of(name)
        try:
            if kinds:
                kind = kinds[0]
                while True:
                    listed = await self._store.range_prefix(kind.registry)
                    marked = functools.partial(_deleted_by_namespace, now=self._now())
                    for kv in listed.kvs:
                        obj = kind.decode(kv.value, kv.mod_revision)
                        if obj.metadata.deletion_timestamp is None:
                            await self._read_modify_write(
                                kind,
                                obj.metadata.namespace,
                                obj.metadata.name,
                                marked,
                                ignored_reply(),
                            )
                    if not (await self._store.range_prefix(kind.registry)).kvs:
                        break
                    await self.context.clock.sleep(_CLEANUP_POLL_SECONDS)
            crds = kind_of(CustomResourceDefinition)

            def release(old: Any) -> ApiObject | None:
                finalizers = old.metadata.finalizers
                if CRD_FINALIZER not in finalizers:
                    return None
                kept = [f for f in finalizers if f != CRD_FINALIZER]
                released: ApiObject = replace(old, metadata=replace(old.metadata, finalizers=kept))
                return released

            await self._read_modify_write(crds, "", name, release, ignored_reply())
        except Exception:
            logger.exception("cleaning up custom resource definition %s failed", name)

    def _bind(self, request: Bind, user: UserInfo) -> None:
        binding: Binding = request.binding
        kind = kind_of(Pod)
        namespace = self._namespace(kind, binding.metadata.namespace)
        name = binding.metadata.name
        self._authorize(user, "create", kind, namespace, name, "binding")
        node = binding.target.name
        if not node:
            raise ApiError.invalid(
                "Binding",
                name,
                [
                    StatusCause(
                        reason="FieldValueRequired", field="target.name", message="Required value"
                    )
                ],
            )
        now = self._now()

        def change(old: Any) -> ApiObject:
            pod: Pod = old
            if pod.metadata.deletion_timestamp is not None:
                raise ApiError.conflict(
                    "pods", name, "pod is being deleted, cannot be assigned to a host"
                )
            if pod.spec.node_name:
                raise ApiError.conflict(
                    "pods", name, f'pod {name} is already assigned to node "{pod.spec.node_name}"'
                )
            uid = binding.metadata.uid
            if uid and uid != pod.metadata.uid:
                raise ApiError.conflict("pods", name, "Precondition failed: UID mismatch")
            conditions = [c for c in pod.status.conditions if c.type != "PodScheduled"]
            conditions.append(
                PodCondition(type="PodScheduled", status="True", last_transition_time=now)
            )
            return replace(
                pod,
                spec=replace(pod.spec, node_name=node),
                status=replace(pod.status, conditions=conditions),
            )

        key = kind.key(namespace, name)
        version = request.seen_version
        old = self._decoded.peek(key, int(version)) if version.isdigit() else None
        if old is not None:
            try:
                bound = change(old)
            except ApiError:
                bound = None  # perhaps only as of that version: decide on a fresh read
            if bound is not None:
                self._bind_at(request, kind, key, bound, int(version))
                return
        self.context.start_soon(
            lambda: self._read_modify_write(kind, namespace, name, change, request.reply)
        )

    def _bind_at(
        self, request: Bind, kind: ResourceKind[Any], key: bytes, bound: ApiObject, version: int
    ) -> None:
        """Write a binding conditionally on the pod's version the binder saw, with no
        read; if the pod has changed since, the request is taken again from a read."""
        me = self.context.self

        def translate(error: BaseException) -> BaseException | None:
            if not isinstance(error, ConflictError):
                return store_failure(error)
            if me.try_tell(replace(request, seen_version="")):
                return None
            return ApiError.conflict(kind.plural, bound.metadata.name)

        written: Reply[WriteResult] = request.reply.forward(
            lambda r: self._written(kind, key, r.revision, bound), translate
        )
        self._tell_store(StorePut(key, kind.encode(bound), written, expect_mod_revision=version))

    def _scale(self, request: GetScale | UpdateScale, user: UserInfo) -> None:
        kind: ResourceKind[Any] = self.kinds.of_type(request.kind)
        custom = kind if isinstance(kind, CustomResourceKind) else None
        if kind.plural not in _SCALABLE and (custom is None or custom.scale is None):
            raise ApiError.not_found(f"{kind.plural}/scale", "")
        if isinstance(request, GetScale):
            namespace = self._namespace(kind, request.namespace)
            name = request.name
            self._authorize(user, "get", kind, namespace, name, "scale")
            replicas: int | None = None
            version = ""
        else:
            meta = request.scale.metadata
            namespace = self._namespace(kind, meta.namespace)
            name = meta.name
            self._authorize(user, "update", kind, namespace, name, "scale")
            replicas = request.scale.spec.replicas
            version = meta.resource_version

        def change(old: Any) -> ApiObject | None:
            if replicas is None:
                return None
            if version and version != old.metadata.resource_version:
                raise ApiError.conflict(kind.plural, name)
            if custom is not None:
                updated: ApiObject = custom_with_replicas(custom, old, replicas)
            else:
                updated = with_replicas(old, replicas)
            return self._updated(kind, old, updated, user, "")

        def answer(obj: Any) -> Any:
            return custom_scale(custom, obj) if custom is not None else scale_of(kind, obj)

        self.context.start_soon(
            lambda: self._read_modify_write(
                kind, namespace, name, change, request.reply, answer=answer
            )
        )


_RULES_KEPT = 256


class _KindRules:
    """What the checks of a write need to know of one kind, worked out once per kind
    instead of at every write (a Lease renewal, a node status post): whether it is
    a custom kind or the CRDs' (whose writes their own machinery checks too),
    whether it has defaults, the admission plugins its updates go through, and its
    validation (with the custom checks, for those kinds)."""

    __slots__ = (
        "crd",
        "custom",
        "defaulted",
        "has_status",
        "kind",
        "namespaced",
        "registry",
        "update_plugins",
        "validate",
    )

    def __init__(
        self, kind: ResourceKind[Any], admission: AdmissionChain, custom: CustomResources
    ) -> None:
        self.kind = kind
        self.namespaced = kind.namespaced
        self.registry = kind.registry
        self.has_status = kind.has_status  # a property: a Python call per status post
        self.custom = isinstance(kind, CustomResourceKind)
        # An object of the kind is a CRD (every write's object is of its kind's type).
        self.crd = issubclass(kind.type, CustomResourceDefinition)
        self.defaulted = has_defaults(kind.type)
        self.update_plugins = admission.concerned("UPDATE", kind)
        check = validator(kind)
        if self.custom or self.crd:
            causes = custom.causes

            def check_all(obj: Any) -> list[StatusCause]:
                return check(obj) + causes(kind, obj)

            self.validate: Validator = check_all
        else:
            self.validate = check

    def key(self, namespace: str, name: str) -> bytes:
        """The kind's `key`, as a native call: every update computes one."""
        if self.namespaced:
            return self.registry + f"{namespace}/{name}".encode()
        return self.registry + name.encode()


def _create_only(resource_type: type[Any]) -> ApiError:
    return ApiError.method_not_allowed(
        f"the server does not allow this method on the requested resource "
        f"({kind_of(resource_type).plural}): it is create-only"
    )


def _kind_type(message: Get | List | Update | Patch | Delete | Watch) -> type[Any]:
    return type(message.obj) if isinstance(message, Update) else message.kind


def _to_remove(obj: ApiObject) -> bool:
    """Whether a write of `obj` removes it instead: it is being deleted and nothing
    holds it (no finalizers, no grace period running, for a namespace no spec
    finalizers left)."""
    meta = obj.metadata
    if meta.deletion_timestamp is None or meta.finalizers:
        return False
    if (meta.deletion_grace_period_seconds or 0) > 0:
        return False
    return not (isinstance(obj, Namespace) and obj.spec.finalizers)


def _deleted_by_namespace(old: Any, now: str) -> ApiObject | None:
    meta = old.metadata
    if meta.deletion_timestamp is not None and meta.finalizers:
        return None
    gone: ApiObject = replace(
        old,
        metadata=replace(
            meta,
            deletion_timestamp=meta.deletion_timestamp or now,
            deletion_grace_period_seconds=0,
        ),
    )
    return gone


def _invalid_patch(kind: ResourceKind[Any], name: str, detail: str) -> ApiError:
    field = ""
    if "at `$." in detail:
        field = detail.rsplit("at `$.", 1)[1].rstrip("`")
    cause = StatusCause(reason="FieldValueInvalid", field=field, message=f"Invalid value: {detail}")
    return ApiError.invalid(kind.kind, name, [cause])


def _parse_resource_version(
    kind: ResourceKind[Any], name: str, version: str, verb: str = "update"
) -> int:
    if version.isascii() and version.isdigit():
        return int(version)  # the usual case, before any of the checks below
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
