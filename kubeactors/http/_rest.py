"""The resource endpoints: get, list, watch, create, update, patch and delete over REST."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..actors import Clock
from ..api import (
    PATCH_TYPES,
    ApiError,
    CustomResourceKind,
    ManagedFieldsEntry,
    ObjectList,
    ResourceKind,
    Scale,
    apply_patch,
    format_time,
    unknown_fields,
    unknown_fields_of,
    unsupported_custom_patch,
)
from ..client import Client
from ._apply import APPLY, parse_apply, server_side_apply
from ._errors import bad_request, method_not_allowed, path_not_found, unsupported_media_type
from ._eviction import evict
from ._impersonation import IMPERSONATED_SCOPE_KEY
from ._kinds import KindIndex
from ._logs import LogReader, log_request, log_response
from ._managed import manager_of, update_fields
from ._media import parse_accept, wants
from ._metrics import Metrics
from ._protobuf import PROTOBUF, decode_protobuf
from ._subresources import bind, patch_scale, read_scale, write_scale
from ._table import table
from ._watch import Watches, WatchOptions, watch_events

__all__ = ["TOKEN_SCOPE_KEY", "RestApi", "Target", "resolve"]

logger = logging.getLogger(__name__)

_encoder = msgspec.json.Encoder()
_JSON = "application/json"
_TRUE = ("1", "true", "True")
_PATCH_RETRIES = 5

TOKEN_SCOPE_KEY = "kubeactors.token"
"""Where the ASGI scope keeps the bearer token its request was authenticated with."""

_REQUEST_CLIENT: ContextVar[Client] = ContextVar("kubeactors_http_request_client")


@dataclass(frozen=True)
class Target:
    """What a resource path names: a kind, and a namespace, name and subresource or not."""

    kind: ResourceKind[Any]
    namespace: str = ""
    name: str = ""
    subresource: str = ""


def _check_name(name: str) -> str:
    name = unquote(name)
    if name in (".", "..") or "/" in name or "%" in name:
        raise bad_request(f"invalid resource name {name!r}: may not be '.', '..' or contain '/'")
    return name


def resolve(kinds: KindIndex, group: str, version: str, segments: list[str]) -> Target:
    """The target of `/api/v1/<segments>` or `/apis/<group>/<version>/<segments>`."""
    if (
        len(segments) >= 3
        and segments[0] == "namespaces"
        and (kind := kinds.find(group, version, segments[2])) is not None
        and kind.namespaced
    ):
        namespace = _check_name(segments[1])
        rest = segments[3:]
    else:
        found = kinds.find(group, version, segments[0]) if segments else None
        if found is None:
            raise path_not_found()
        kind, namespace, rest = found, "", segments[1:]
        if kind.namespaced and rest:
            raise path_not_found()
    if len(rest) > 2:
        raise path_not_found()
    name = _check_name(rest[0]) if rest else ""
    subresource = rest[1] if len(rest) > 1 else ""
    if (
        subresource
        and subresource not in kind.subresources
        and subresource != "status"
        and not (subresource == "log" and kind.plural == "pods")
    ):
        raise path_not_found()
    return Target(kind, namespace, name, subresource)


def _json(payload: Any, status_code: int = 200) -> Response:
    return Response(_encoder.encode(payload), status_code=status_code, media_type=_JSON)


class RestApi:
    """Turns REST requests on resources into `Client` calls and their answers into JSON."""

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock,
        wall_clock: Callable[[], datetime],
        metrics: Metrics,
        watches: Watches,
        max_body: int = 3 * 1024 * 1024,
        logs: LogReader | None = None,
        forward_tokens: bool = False,
    ) -> None:
        self.logs = logs
        self.forward_tokens = forward_tokens
        self._client = client
        self.clock = clock
        self.wall_clock = wall_clock
        self.metrics = metrics
        self.watches = watches
        self.max_body = max_body

    @property
    def client(self) -> Client:
        """The client of the request being handled: its caller's, when tokens are forwarded."""
        return _REQUEST_CLIENT.get(self._client)

    async def handle(self, request: Request, target: Target) -> Response:
        request.state.warnings = []
        token = request.scope.get(TOKEN_SCOPE_KEY, "")
        who = request.scope.get(IMPERSONATED_SCOPE_KEY)
        if who is not None:
            # Impersonation was allowed (`HttpApi`): the request runs as that user.
            _REQUEST_CLIENT.set(self._client.as_user(who))
        elif self.forward_tokens and token:
            # Each request runs in its own task, so the context variable is its own.
            _REQUEST_CLIENT.set(self._client.with_token(token))
        response = await self._handle(request, target)
        for warning in request.state.warnings:
            escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
            response.headers.append("Warning", f'299 - "{escaped}"')
        return response

    async def _handle(self, request: Request, target: Target) -> Response:
        method = request.method
        if target.subresource in ("scale", "binding"):
            return await self._subresource(request, target)
        if target.subresource == "log":
            return await self._logs(request, target)
        if target.subresource == "eviction":
            return await self._evict(request, target)
        params = request.query_params
        collection = not target.name
        if method == "GET":
            if params.get("watch", "") in _TRUE:
                return await self._watch(request, target)
            return await (self._list(request, target) if collection else self._get(request, target))
        if method == "POST" and collection:
            return await self._create(request, target)
        if method == "PUT" and not collection:
            return await self._update(request, target)
        if method == "PATCH" and not collection:
            return await self._patch(request, target)
        if method == "DELETE":
            if collection:
                return await self._delete_collection(request, target)
            return await self._delete(request, target)
        raise method_not_allowed(method, f"{target.kind.plural}{'' if collection else '/name'}")

    # -- reads ---------------------------------------------------------------------

    def _table_version(self, request: Request) -> str | None:
        accept = parse_accept(request.headers.get("accept", ""))
        return wants(accept, "Table", "meta.k8s.io", ("v1", "v1beta1"))

    def _selectors(self, request: Request, target: Target) -> tuple[str, str]:
        """The label and field selectors, for the API server to apply (a request for
        one object by name, such as `kubectl get pod x --watch`, selects its name)."""
        params = request.query_params
        field = params.get("fieldSelector", "")
        if target.name:
            by_name = f"metadata.name={target.name}"
            field = f"{field},{by_name}" if field else by_name
        return params.get("labelSelector", ""), field

    def _table(
        self,
        request: Request,
        kind: ResourceKind[Any],
        objects: list[Mapping[str, Any]],
        version: str,
        resource_version: str = "",
        continue_: str = "",
    ) -> Response:
        include = request.query_params.get("includeObject", "Metadata")
        return _json(
            table(
                kind,
                objects,
                self.wall_clock(),
                version=version,
                resource_version=resource_version,
                continue_=continue_,
                include_object=include,
            )
        )

    async def _get(self, request: Request, target: Target) -> Response:
        obj = await self.client.get(target.kind.type, target.name, target.namespace)
        version = self._table_version(request)
        if version is not None:
            return self._table(request, target.kind, [msgspec.to_builtins(obj)], version)
        return _json(obj)

    async def _list(self, request: Request, target: Target) -> Response:
        params = request.query_params
        try:
            limit = int(params.get("limit", "0") or "0")
        except ValueError:
            raise bad_request(f"limit: not a number: {params['limit']!r}") from None
        labels, fields = self._selectors(request, target)
        listed: ObjectList[Any] = await self.client.list(
            target.kind.type,
            target.namespace,
            label_selector=labels,
            field_selector=fields,
            limit=limit,
            continue_=params.get("continue", ""),
        )
        listed = msgspec.structs.replace(listed, api_version=target.kind.api_version)
        version = self._table_version(request)
        if version is None:
            return _json(listed)
        objects = [msgspec.to_builtins(obj) for obj in listed.items]
        return self._table(
            request, target.kind, objects, version, listed.resource_version, listed.continue_
        )

    async def _watch(self, request: Request, target: Target) -> Response:
        params = request.query_params
        timeout: float | None = None
        if "timeoutSeconds" in params:
            try:
                timeout = float(params["timeoutSeconds"])
            except ValueError:
                raise bad_request(
                    f"timeoutSeconds: not a number: {params['timeoutSeconds']!r}"
                ) from None
        options = WatchOptions(
            table_version=self._table_version(request),
            include_object=params.get("includeObject", "Metadata"),
            timeout=timeout if timeout and timeout > 0 else None,
        )
        kind = target.kind
        labels, fields = self._selectors(request, target)
        watch = await self.client.watch(
            kind.type,
            target.namespace,
            params.get("resourceVersion", ""),
            label_selector=labels,
            field_selector=fields,
        )
        body = watch_events(
            kind,
            watch,
            options,
            watches=self.watches,
            metrics=self.metrics,
            clock=self.clock,
            wall_clock=self.wall_clock,
        )
        return StreamingResponse(body, media_type=_JSON)

    async def _logs(self, request: Request, target: Target) -> Response:
        if request.method != "GET":
            raise method_not_allowed(request.method, "pods/log")
        pod = await self.client.get(target.kind.type, target.name, target.namespace)
        asked = log_request(
            pod.metadata.namespace, target.name, pod.spec.node_name, request.query_params
        )
        if self.logs is None:
            raise path_not_found()
        return await log_response(self.logs, asked)

    async def _evict(self, request: Request, target: Target) -> Response:
        if request.method != "POST":
            raise method_not_allowed(request.method, "pods/eviction")
        raw = self._parse(await self._body(request))
        caller = self.client
        done = await evict(
            caller,
            self._client,
            target.namespace,
            target.name,
            raw,
            self.wall_clock(),
            self.clock.sleep,
        )
        return _json(done, 201)

    # -- writes ----------------------------------------------------------------------

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise ApiError.too_large(f"limit is {self.max_body} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise ApiError.too_large(f"limit is {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _decode(self, request: Request, target: Target) -> Any:
        """The request body as an object of the target's kind, checked against the path."""
        content_type = request.headers.get("content-type", _JSON).split(";")[0].strip().lower()
        body = await self._body(request)
        kind = target.kind
        try:
            if content_type in (_JSON, "*/*", ""):
                raw: Any = msgspec.json.decode(body)
            elif content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
                raw = msgspec.yaml.decode(body)
            elif content_type == PROTOBUF:
                raw = decode_protobuf(body)
            else:
                raise unsupported_media_type(content_type)
        except msgspec.DecodeError as error:
            raise bad_request(f"the body of the request could not be decoded: {error}") from None
        self._check_fields(request, unknown_fields_of(kind, raw))
        return self._convert(raw, target, kind)

    def _check_fields(self, request: Request, unknown_paths: list[str]) -> None:
        """Apply `fieldValidation`: Strict refuses unknown fields, Warn (the default)
        reports them in Warning headers, Ignore drops them silently."""
        validation = request.query_params.get("fieldValidation", "Warn")
        if validation not in ("Strict", "Warn", "Ignore"):
            raise bad_request(
                f"fieldValidation: Invalid value: {validation!r}: must be Strict, Warn or Ignore"
            )
        if validation == "Ignore":
            return
        unknown = [f'unknown field "{path}"' for path in unknown_paths]
        if unknown and validation == "Strict":
            raise bad_request("strict decoding error: " + ", ".join(unknown))
        request.state.warnings.extend(unknown)

    def _convert(self, raw: Any, target: Target, kind: ResourceKind[Any]) -> Any:
        if not isinstance(raw, dict):
            raise bad_request(f"the body of the request must be a {kind.kind} object")
        api_version = raw.get("apiVersion", kind.api_version)
        raw_kind = raw.get("kind", kind.kind)
        if api_version != kind.api_version or raw_kind != kind.kind:
            raise bad_request(
                f"the object provided is a {raw_kind} of {api_version}, but this path "
                f"serves {kind.kind} of {kind.api_version}"
            )
        metadata = raw.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise bad_request("metadata: must be an object")
        if kind.namespaced and target.namespace:
            if metadata.get("namespace") not in (None, "", target.namespace):
                raise bad_request(
                    "the namespace of the provided object does not match the namespace "
                    "sent on the request"
                )
            raw = {**raw, "metadata": {**metadata, "namespace": target.namespace}}
        if target.name and metadata.get("name") not in (None, "", target.name):
            raise bad_request(
                f"the name of the object ({metadata.get('name')}) does not match the name "
                f"on the URL ({target.name})"
            )
        if target.name and not metadata.get("name"):
            raw = {**raw, "metadata": {**raw.get("metadata", metadata), "name": target.name}}
        try:
            return msgspec.convert(raw, kind.type)
        except msgspec.ValidationError as error:
            raise bad_request(f"{kind.kind} in version {kind.version!r}: {error}") from None

    async def _create(self, request: Request, target: Target) -> Response:
        obj = self._managed(request, target, None, await self._decode(request, target))
        return _json(await self.client.create(obj), 201)

    async def _update(self, request: Request, target: Target) -> Response:
        obj = await self._decode(request, target)
        current = await self.client.get(target.kind.type, target.name, target.namespace)
        if not obj.metadata.resource_version:
            # An update without a version replaces whatever is there, as upstream allows.
            metadata = msgspec.structs.replace(
                obj.metadata, resource_version=current.metadata.resource_version
            )
            obj = msgspec.structs.replace(obj, metadata=metadata)
        obj = self._managed(request, target, current, obj)
        return _json(await self._writer(target)(obj))

    def _managed(self, request: Request, target: Target, current: Any, obj: Any) -> Any:
        """`obj` with its managedFields after this Update (`current` None: a create)."""
        entries = update_fields(
            msgspec.to_builtins(current) if current is not None else None,
            msgspec.to_builtins(obj),
            manager=manager_of(request.query_params, request.headers.get("user-agent", "")),
            api_version=target.kind.api_version,
            time=format_time(self.wall_clock()),
            subresource=target.subresource,
        )
        metadata = msgspec.structs.replace(
            obj.metadata, managed_fields=msgspec.convert(entries, list[ManagedFieldsEntry])
        )
        return msgspec.structs.replace(obj, metadata=metadata)

    def _writer(self, target: Target) -> Callable[[Any], Awaitable[Any]]:
        """How a replaced object is written: the `status` subresource keeps the rest."""
        if target.subresource == "status":
            return self.client.update_status
        return self.client.update

    async def _patch(self, request: Request, target: Target) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        kind = target.kind
        if content_type == APPLY:
            applied = parse_apply(await self._body(request), request.query_params)
            self._check_fields(request, unknown_fields_of(kind, applied))
            obj, created = await server_side_apply(
                self.client,
                kind.type,
                target.name,
                target.namespace,
                applied,
                lambda raw: self._convert(raw, target, kind),
                manager=request.query_params["fieldManager"],
                force=request.query_params.get("force", "false") in _TRUE,
                time=format_time(self.wall_clock()),
            )
            return _json(obj, 201 if created else 200)
        if content_type not in PATCH_TYPES:
            raise unsupported_media_type(content_type)
        if isinstance(kind, CustomResourceKind) and PATCH_TYPES[content_type] == "strategic":
            # Custom objects have no strategic merge keys: upstream refuses them too.
            raise unsupported_custom_patch()
        patch = self._parse(await self._body(request))
        for attempt in range(_PATCH_RETRIES):
            current = await self.client.get(kind.type, target.name, target.namespace)
            patched = apply_patch(msgspec.to_builtins(current), patch, PATCH_TYPES[content_type])
            obj = self._managed(request, target, current, self._convert(patched, target, kind))
            locked = bool(obj.metadata.resource_version) and (
                obj.metadata.resource_version != current.metadata.resource_version
            )
            if not obj.metadata.resource_version:
                metadata = msgspec.structs.replace(
                    obj.metadata, resource_version=current.metadata.resource_version
                )
                obj = msgspec.structs.replace(obj, metadata=metadata)
            try:
                return _json(await self._writer(target)(obj))
            except ApiError as error:
                # A conflict with a concurrent writer is retried on the newer object,
                # unless the patch itself asked for a version (optimistic locking).
                if error.reason != "Conflict" or locked or attempt == _PATCH_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _subresource(self, request: Request, target: Target) -> Response:
        kind, method = target.kind, request.method
        client, name, namespace = self.client, target.name, target.namespace
        if target.subresource == "binding":
            if method != "POST":
                raise method_not_allowed(method, f"{kind.plural}/binding")
            body = self._parse(await self._body(request))
            return _json(await bind(client, kind.type, name, namespace, body), 201)
        if isinstance(kind, CustomResourceKind):
            return await self._custom_scale(request, target)
        if method == "GET":
            return _json(read_scale(await client.get(kind.type, name, namespace)))
        if method == "PUT":
            raw = self._parse(await self._body(request))
            self._check_fields(request, unknown_fields(raw, Scale))
            try:
                scale = msgspec.convert(raw, Scale)
            except msgspec.ValidationError as error:
                raise bad_request(f"Scale: {error}") from None
            version = scale.metadata.resource_version
            replicas = scale.spec.replicas
            return _json(await write_scale(client, kind.type, name, namespace, replicas, version))
        if method == "PATCH":
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in PATCH_TYPES:
                raise unsupported_media_type(content_type)
            patch = self._parse(await self._body(request))
            return _json(await patch_scale(client, kind.type, name, namespace, patch, content_type))
        raise method_not_allowed(method, f"{kind.plural}/scale")

    async def _custom_scale(self, request: Request, target: Target) -> Response:
        """The scale of a custom object, read and written by the API server at the
        paths its CRD names."""
        kind, method, client = target.kind, request.method, self.client
        current = await client.get_scale(kind.type, target.name, target.namespace)
        if method == "GET":
            return _json(current)
        if method not in ("PUT", "PATCH"):
            raise method_not_allowed(method, f"{kind.plural}/scale")
        raw = self._parse(await self._body(request))
        if method == "PATCH":
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in PATCH_TYPES:
                raise unsupported_media_type(content_type)
            raw = apply_patch(msgspec.to_builtins(current), raw, PATCH_TYPES[content_type])
        else:
            self._check_fields(request, unknown_fields(raw, Scale))
        try:
            scale = msgspec.convert(raw, Scale)
        except msgspec.ValidationError as error:
            raise bad_request(f"Scale: {error}") from None
        meta = msgspec.structs.replace(scale.metadata, name=target.name, namespace=target.namespace)
        scale = msgspec.structs.replace(scale, metadata=meta)
        return _json(await client.update_scale(kind.type, scale))

    def _parse(self, body: bytes) -> Any:
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError as error:
            raise bad_request(f"the body of the request could not be decoded: {error}") from None

    async def _delete_options(self, request: Request) -> dict[str, Any]:
        """The `DeleteOptions` of a request: its body (kubectl's way) or query parameters."""
        body = await self._body(request)
        options = self._parse(body) if body.strip() else {}
        if not isinstance(options, dict):
            raise bad_request("the body of a delete must be a DeleteOptions object")
        params = request.query_params
        policy = params.get("propagationPolicy", options.get("propagationPolicy") or "")
        if policy not in ("", "Orphan", "Background", "Foreground"):
            raise bad_request(
                f"propagationPolicy: Unsupported value: {policy!r}: "
                'supported values: "Foreground", "Background", "Orphan"'
            )
        if params.get("orphanDependents") in _TRUE or options.get("orphanDependents") is True:
            policy = policy or "Orphan"
        grace = params.get("gracePeriodSeconds", options.get("gracePeriodSeconds"))
        try:
            grace_seconds = None if grace is None else int(grace)
        except (TypeError, ValueError):
            raise bad_request(f"gracePeriodSeconds: not an integer: {grace!r}") from None
        preconditions = options.get("preconditions") or {}
        return {
            "propagation_policy": policy,
            "grace_period_seconds": grace_seconds,
            "precondition_uid": preconditions.get("uid") or "",
            "precondition_resource_version": preconditions.get("resourceVersion") or "",
        }

    async def _delete(self, request: Request, target: Target) -> Response:
        options = await self._delete_options(request)
        deleted = await self.client.delete(
            target.kind.type, target.name, target.namespace, **options
        )
        return _json(deleted)

    async def _delete_collection(self, request: Request, target: Target) -> Response:
        kind = target.kind
        options = await self._delete_options(request)
        options["precondition_uid"] = options["precondition_resource_version"] = ""
        labels, fields = self._selectors(request, target)
        listed: ObjectList[Any] = await self.client.list(
            kind.type, target.namespace, label_selector=labels, field_selector=fields
        )
        deleted = []
        for obj in listed.items:
            try:
                deleted.append(
                    await self.client.delete(
                        kind.type, obj.metadata.name, obj.metadata.namespace, **options
                    )
                )
            except ApiError as error:
                if error.code != 404:
                    raise
        result = msgspec.structs.replace(listed, api_version=kind.api_version, items=deleted)
        return _json(result)
