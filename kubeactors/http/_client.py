"""`HttpClient`: the `Client` interface over HTTPS, so a component can run in another process."""

from __future__ import annotations

import base64
import logging
import ssl
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
import httpx
import msgspec
import yaml
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..api import (
    KINDS,
    PATCH_TYPES,
    ApiError,
    ApiObject,
    ObjectList,
    PatchType,
    Pod,
    ResourceKind,
    Scale,
    Status,
    UserInfo,
    WatchEvent,
)
from ..client import Callback

__all__ = ["HttpClient", "HttpWatch"]

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=ApiObject)


class _Event(msgspec.Struct):
    type: str
    object: msgspec.Raw


_event_decoder = msgspec.json.Decoder(_Event)
_encoder = msgspec.json.Encoder()
_JSON = "application/json"
_PATCH_MEDIA_TYPES: dict[str, str] = {kind: media for media, kind in PATCH_TYPES.items()}


def _selectors(label_selector: str, field_selector: str) -> dict[str, str]:
    params = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return params


_status_decoder = msgspec.json.Decoder(Status)


def _error(response: httpx.Response) -> ApiError:
    try:
        status = _status_decoder.decode(response.content)
    except msgspec.DecodeError:
        status = Status(message=response.text[:200], reason="InternalError")
    if not status.code:
        status = msgspec.structs.replace(status, code=response.status_code)
    return ApiError(status)


class HttpWatch(Generic[R]):
    """Batches of `WatchEvent`s read from a watch response: `async for batch in watch`.

    The response is read by a task of the client, so `close()` can be called from
    anywhere, at once. An ERROR event (410 Expired, say) is raised as its `ApiError`.
    """

    def __init__(
        self,
        receive: MemoryObjectReceiveStream[list[WatchEvent[R]] | ApiError],
        scope: anyio.CancelScope,
    ) -> None:
        self._receive = receive
        self._scope = scope

    def __aiter__(self) -> HttpWatch[R]:
        return self

    async def __anext__(self) -> list[WatchEvent[R]]:
        try:
            item = await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None
        if isinstance(item, ApiError):
            raise item
        return item

    def close(self) -> None:
        self._scope.cancel()
        self._receive.close()


class HttpClient:
    """The `ApiClient` protocol over the Kubernetes REST API, so that any component
    (informers, controllers, kubelets) can run in another process.

    ```python
    async with HttpClient.from_kubeconfig(path) as client:
        pods = await client.list(Pod)
    ```
    Shaped like the in-process `Client`: errors are `ApiError`s carrying the server's
    `Status`; an empty namespace means "default" for one object, all for list and watch.
    """

    def __init__(
        self,
        server: str,
        *,
        token: str = "",
        verify: ssl.SSLContext | bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.server = server
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # Keep every pooled connection alive: httpx's default keeps 20, so more
        # concurrent callers than that would pay a TLS handshake per request.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        # One connection pool, shared with the clients `impersonating` makes.
        self._transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
        self._http = httpx.AsyncClient(
            base_url=server, headers=headers, timeout=timeout, transport=self._transport
        )
        self._group: TaskGroup | None = None
        self._owner: HttpClient | None = None
        self._impersonators: list[HttpClient] = []

    def impersonating(self, user: UserInfo) -> HttpClient:
        """The same server, token and connections, asking as `user`'s name and groups
        (`kubectl --as --as-group`): the token's user must be allowed to impersonate
        them. Usable while this client is."""
        other = object.__new__(HttpClient)
        other.server = self.server
        # The server adds system:authenticated itself: one permission fewer to ask for.
        groups = [g for g in user.groups if g != "system:authenticated"]
        items = [*self._http.headers.multi_items(), ("Impersonate-User", user.name)]
        items += [("Impersonate-Group", group) for group in groups]
        headers = httpx.Headers(items)
        other._transport = self._transport
        other._http = httpx.AsyncClient(
            base_url=self.server,
            headers=headers,
            timeout=self._http.timeout,
            transport=self._transport,
        )
        other._group = None
        other._owner = self
        other._impersonators = []
        self._impersonators.append(other)
        return other

    @classmethod
    def from_kubeconfig(cls, path: Path, *, timeout: float = 30.0) -> HttpClient:
        """A client for the current context of a kubeconfig (server, CA data, token)."""
        config = yaml.safe_load(path.read_text())
        contexts = {c["name"]: c["context"] for c in config.get("contexts", [])}
        context = contexts[config["current-context"]]
        cluster = {c["name"]: c["cluster"] for c in config["clusters"]}[context["cluster"]]
        user = {u["name"]: u["user"] for u in config.get("users", [])}.get(context["user"], {})
        verify: ssl.SSLContext | bool = True
        if "certificate-authority-data" in cluster:
            ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
            verify = ssl.create_default_context(cadata=ca)
        elif "certificate-authority" in cluster:
            verify = ssl.create_default_context(cafile=cluster["certificate-authority"])
        return cls(cluster["server"], token=user.get("token", ""), verify=verify, timeout=timeout)

    async def __aenter__(self) -> HttpClient:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        group, self._group = self._group, None
        try:
            if group is not None:
                group.cancel_scope.cancel()
                return await group.__aexit__(exc_type, exc, traceback)
            return None
        finally:
            impersonators, self._impersonators = self._impersonators, []
            for other in impersonators:
                await other._http.aclose()
            await self._http.aclose()

    # -- paths -----------------------------------------------------------------------

    @staticmethod
    def _path(
        kind: ResourceKind[Any], namespace: str, name: str = "", *, listing: bool = False
    ) -> str:
        base = f"/api/{kind.version}" if not kind.group else f"/apis/{kind.group}/{kind.version}"
        if kind.namespaced and (namespace or not listing):
            base += f"/namespaces/{namespace or 'default'}"
        path = f"{base}/{kind.plural}"
        return f"{path}/{name}" if name else path

    async def _send(
        self,
        method: str,
        path: str,
        kind: ResourceKind[R],
        body: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> R:
        response = await self._http.request(
            method,
            path,
            content=body,
            params=params,
            headers={"Content-Type": "application/json"} if body is not None else None,
        )
        if response.is_error:
            raise _error(response)
        obj: R = msgspec.json.decode(response.content, type=kind.type)
        return obj

    # -- the ApiClient interface ------------------------------------------------------------

    async def create(self, obj: R) -> R:
        kind: ResourceKind[R] = KINDS.of_type(type(obj))
        path = self._path(kind, obj.metadata.namespace)
        return await self._send("POST", path, kind, kind.encode(obj))

    async def get(self, kind: type[R], name: str, namespace: str = "") -> R:
        resource: ResourceKind[R] = KINDS.of_type(kind)
        return await self._send("GET", self._path(resource, namespace, name), resource)

    async def list(
        self,
        kind: type[R],
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_: str = "",
    ) -> ObjectList[R]:
        """Objects matching the selectors; with `limit`, one page (`.continue_` for the next)."""
        resource: ResourceKind[R] = KINDS.of_type(kind)
        params = _selectors(label_selector, field_selector)
        if limit:
            params["limit"] = str(limit)
        if continue_:
            params["continue"] = continue_
        response = await self._http.get(
            self._path(resource, namespace, listing=True), params=params
        )
        if response.is_error:
            raise _error(response)
        listed: ObjectList[R] = msgspec.json.decode(response.content, type=ObjectList[kind])  # type: ignore[valid-type]
        return listed

    async def update(self, obj: R) -> R:
        return await self._update(obj, "")

    async def update_status(self, obj: R) -> R:
        """Replace only the status of `obj` (the `status` subresource)."""
        return await self._update(obj, "status")

    async def _update(self, obj: R, subresource: str) -> R:
        kind: ResourceKind[R] = KINDS.of_type(type(obj))
        meta = obj.metadata
        path = self._path(kind, meta.namespace, meta.name)
        if subresource:
            path += f"/{subresource}"
        return await self._send("PUT", path, kind, kind.encode(obj))

    async def send_update(self, obj: R, on_done: Callback[R], *, subresource: str = "") -> None:
        """Update in a task of the client; `on_done(updated, None)` or `(None, error)`."""
        group = self._running()

        async def run() -> None:
            try:
                updated = await self._update(obj, subresource)
            except Exception as error:
                on_done(None, error)
            else:
                on_done(updated, None)

        group.start_soon(run)

    async def patch(
        self,
        kind: type[R],
        name: str,
        patch: Any,
        *,
        patch_type: PatchType = "strategic",
        namespace: str = "",
        subresource: str = "",
    ) -> R:
        """Apply a patch (decoded JSON) of `patch_type`: "json", "merge" or "strategic"."""
        resource: ResourceKind[R] = KINDS.of_type(kind)
        path = self._path(resource, namespace, name)
        if subresource:
            path += f"/{subresource}"
        response = await self._http.patch(
            path,
            content=_encoder.encode(patch),
            headers={"Content-Type": _PATCH_MEDIA_TYPES[patch_type]},
        )
        if response.is_error:
            raise _error(response)
        obj: R = msgspec.json.decode(response.content, type=resource.type)
        return obj

    async def delete(
        self,
        kind: type[R],
        name: str,
        namespace: str = "",
        *,
        propagation_policy: str = "",
        precondition_uid: str = "",
        precondition_resource_version: str = "",
        grace_period_seconds: int | None = None,
    ) -> R:
        """Delete an object; returns it as last stored (see the in-process `Client`)."""
        resource: ResourceKind[R] = KINDS.of_type(kind)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        preconditions = {
            key: value
            for key, value in (
                ("uid", precondition_uid),
                ("resourceVersion", precondition_resource_version),
            )
            if value
        }
        if preconditions:
            options["preconditions"] = preconditions
        return await self._send(
            "DELETE", self._path(resource, namespace, name), resource, _encoder.encode(options)
        )

    async def bind(self, pod: Pod, node: str) -> Pod:
        """Bind `pod` to `node` through the pod's `binding` subresource."""
        meta = pod.metadata
        pods: ResourceKind[Pod] = KINDS.of_type(Pod)
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta.name, "namespace": meta.namespace, "uid": meta.uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        path = self._path(pods, meta.namespace, meta.name) + "/binding"
        response = await self._http.post(
            path, content=_encoder.encode(binding), headers={"Content-Type": _JSON}
        )
        if response.is_error:
            raise _error(response)
        # The answer is a Status, as upstream's: the bound pod is read back.
        return await self.get(Pod, meta.name, meta.namespace)

    async def get_scale(self, kind: type[Any], name: str, namespace: str = "") -> Scale:
        resource: ResourceKind[Any] = KINDS.of_type(kind)
        response = await self._http.get(self._path(resource, namespace, name) + "/scale")
        if response.is_error:
            raise _error(response)
        return msgspec.json.decode(response.content, type=Scale)

    async def update_scale(self, kind: type[Any], scale: Scale) -> Scale:
        """Set `scale.spec.replicas` on a Deployment, ReplicaSet or ReplicationController."""
        resource: ResourceKind[Any] = KINDS.of_type(kind)
        meta = scale.metadata
        response = await self._http.put(
            self._path(resource, meta.namespace, meta.name) + "/scale",
            content=_encoder.encode(scale),
            headers={"Content-Type": _JSON},
        )
        if response.is_error:
            raise _error(response)
        return msgspec.json.decode(response.content, type=Scale)

    async def watch(
        self,
        kind: type[R],
        namespace: str = "",
        resource_version: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        allow_bookmarks: bool = False,
    ) -> HttpWatch[R]:
        """Changes after `resource_version`; unset or "0" first replays the current state."""
        resource: ResourceKind[R] = KINDS.of_type(kind)
        group = self._running()
        send, receive = anyio.create_memory_object_stream[list[WatchEvent[R]] | ApiError](16)
        scope = anyio.CancelScope()
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true" if allow_bookmarks else "false",
            **_selectors(label_selector, field_selector),
        }
        path = self._path(resource, namespace, listing=True)
        started = anyio.Event()
        failure: list[ApiError] = []

        async def read() -> None:
            with scope:
                async with (
                    send,
                    self._http.stream("GET", path, params=params, timeout=None) as response,
                ):
                    if response.is_error:
                        await response.aread()
                        failure.append(_error(response))
                        started.set()
                        return
                    started.set()
                    await _pump(response, resource, send, allow_bookmarks)
            started.set()

        group.start_soon(read)
        await started.wait()
        if failure:
            receive.close()
            raise failure[0]
        return HttpWatch(receive, scope)

    def _running(self) -> TaskGroup:
        if self._owner is not None:
            return self._owner._running()
        if self._group is None:
            raise RuntimeError("use the client as `async with HttpClient(...) as client`")
        return self._group


async def _pump(
    response: httpx.Response,
    kind: ResourceKind[R],
    send: MemoryObjectSendStream[list[WatchEvent[R]] | ApiError],
    bookmarks: bool = False,
) -> None:
    """Turn the response's chunks into batches of events (one batch per chunk read)."""
    pending = b""
    async for chunk in response.aiter_bytes():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        batch: list[WatchEvent[R]] = []
        for line in lines:
            if not line.strip():
                continue
            event = _event_decoder.decode(line)
            if event.type == "ERROR":
                if batch:
                    await send.send(batch)
                await send.send(ApiError(_status_decoder.decode(event.object)))
                return
            if event.type == "BOOKMARK" and not bookmarks:
                continue
            obj: R = msgspec.json.decode(event.object, type=kind.type)
            batch.append(WatchEvent(event.type, obj))  # type: ignore[arg-type]
        if batch:
            await send.send(batch)
