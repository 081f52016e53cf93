"""`Client`: typed, awaitable requests to the in-process API server actor."""

from __future__ import annotations

import builtins
from typing import Any, TypeVar, cast

from ..actors import ActorRef
from ..api import (
    BATCHED,
    ApiObject,
    ApiRequest,
    ApiWatch,
    Bind,
    Binding,
    BindMany,
    Create,
    Delete,
    Get,
    GetScale,
    List,
    ObjectList,
    ObjectMeta,
    ObjectReference,
    Patch,
    PatchType,
    Pod,
    Scale,
    Update,
    UpdateMany,
    UpdateScale,
    UserInfo,
    Watch,
)
from ._callback import Callback, callback_reply

__all__ = ["Client"]

R = TypeVar("R", bound=ApiObject)


class Client:
    """Asks the API server actor; errors arrive as `ApiError` carrying a `Status`.

    Every method names the kind, the namespace (empty: "default" for one object, all
    namespaces for list and watch) and the object. The client acts as `user` (an
    in-process component's identity) or presents `token` (a bearer token the server
    checks); with neither, it is anonymous. It implements the `ApiClient` protocol,
    as the HTTP client does.
    """

    def __init__(
        self,
        api: ActorRef[ApiRequest],
        *,
        timeout: float | None = None,
        user: UserInfo | None = None,
        token: str = "",
    ) -> None:
        self.api = api
        self.user = user
        self._token = token
        self._timeout = timeout

    def as_user(self, user: UserInfo) -> Client:
        """The same API server, asked as `user` (each component has its own identity)."""
        return Client(self.api, timeout=self._timeout, user=user)

    def with_token(self, token: str) -> Client:
        return Client(self.api, timeout=self._timeout, token=token)

    async def create(self, obj: R) -> R:
        user, token = self.user, self._token
        # Typed by the annotation, not `cast` (a call: every create pays for it).
        created: R = await self.api.ask(
            lambda reply: Create(obj=obj, reply=reply, user=user, token=token), self._timeout
        )
        return created

    async def get(self, kind: type[R], name: str, namespace: str = "") -> R:
        user, token = self.user, self._token
        result: Any = await self.api.ask(
            lambda reply: Get(
                kind=kind, namespace=namespace, name=name, reply=reply, user=user, token=token
            ),
            self._timeout,
        )
        return cast(R, result)

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
        user, token = self.user, self._token
        result: ObjectList[Any] = await self.api.ask(
            lambda reply: List(
                kind=kind,
                namespace=namespace,
                reply=reply,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=limit,
                continue_=continue_,
                user=user,
                token=token,
            ),
            self._timeout,
        )
        return result

    async def update(self, obj: R) -> R:
        """Replace `obj`; raises a Conflict `ApiError` if its resourceVersion is stale."""
        return await self._update(obj, "")

    async def update_status(self, obj: R) -> R:
        """Replace only the status of `obj` (the `status` subresource)."""
        return await self._update(obj, "status")

    async def _update(self, obj: R, subresource: str) -> R:
        user, token = self.user, self._token
        result: Any = await self.api.ask(
            lambda reply: Update(
                obj=obj, reply=reply, subresource=subresource, user=user, token=token
            ),
            self._timeout,
        )
        return cast(R, result)

    async def send_update(self, obj: R, on_done: Callback[R], *, subresource: str = "") -> None:
        """Send an update without waiting for the answer; waits only for mailbox room.

        `on_done(updated, None)` or `on_done(None, error)` is called in the task that
        answers, so it must be quick (tell an actor, say). For actors that must not
        block their mailbox on a reply, such as the scheduler binding pods.
        """
        await self.api.tell(
            Update(
                obj=obj,
                reply=callback_reply(on_done),
                subresource=subresource,
                user=self.user,
                token=self._token,
            )
        )

    def batch_item(self, obj: ApiObject, *, subresource: str = "") -> Update:
        """The update of `obj` as this client (its identity) would send it, to go in a
        batch (`send_batch`) with other clients' of the same API server."""
        return Update(
            obj=obj, reply=BATCHED, subresource=subresource, user=self.user, token=self._token
        )

    async def send_batch(
        self, updates: builtins.list[Update], on_done: Callback[builtins.list[Any]]
    ) -> None:
        """Send `updates` (from `batch_item`) in one message, without waiting: each is
        applied as if sent alone, and `on_done(answers, None)` gets, in order, each
        one's answer (the object written, or the error it met)."""
        await self.api.tell(UpdateMany(updates, callback_reply(on_done)))

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
        """Apply a patch (decoded JSON): "json" (RFC 6902), "merge" (RFC 7386) or
        "strategic" (lists such as containers merged by their key)."""
        user, token = self.user, self._token
        result: Any = await self.api.ask(
            lambda reply: Patch(
                kind=kind,
                namespace=namespace,
                name=name,
                patch=patch,
                patch_type=patch_type,
                reply=reply,
                subresource=subresource,
                user=user,
                token=token,
            ),
            self._timeout,
        )
        return cast(R, result)

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
        """Delete an object; returns it as last stored (marked with `deletionTimestamp`
        if finalizers keep it for now)."""
        user, token = self.user, self._token
        result: Any = await self.api.ask(
            lambda reply: Delete(
                kind=kind,
                namespace=namespace,
                name=name,
                reply=reply,
                propagation_policy=propagation_policy,
                precondition_uid=precondition_uid,
                precondition_resource_version=precondition_resource_version,
                grace_period_seconds=grace_period_seconds,
                user=user,
                token=token,
            ),
            self._timeout,
        )
        return cast(R, result)

    async def watch(
        self,
        kind: type[R],
        namespace: str = "",
        resource_version: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        allow_bookmarks: bool = False,
    ) -> ApiWatch[R]:
        """Changes after `resource_version`; unset or "0" first replays the current state."""
        user, token = self.user, self._token
        result: ApiWatch[Any] = await self.api.ask(
            lambda reply: Watch(
                kind=kind,
                namespace=namespace,
                resource_version=resource_version,
                reply=reply,
                label_selector=label_selector,
                field_selector=field_selector,
                allow_bookmarks=allow_bookmarks,
                user=user,
                token=token,
            ),
            self._timeout,
        )
        return result

    async def bind(self, pod: Pod, node: str) -> Pod:
        """Bind `pod` to `node` through the pod's `binding` subresource."""
        user, token = self.user, self._token
        binding = _binding(pod, node)
        version = pod.metadata.resource_version
        result: Any = await self.api.ask(
            lambda reply: Bind(
                binding=binding, reply=reply, user=user, token=token, seen_version=version
            ),
            self._timeout,
        )
        return cast(Pod, result)

    async def send_bind(self, pod: Pod, node: str, on_done: Callback[Pod]) -> None:
        """`bind` without waiting for the answer (see `send_update`)."""
        await self.api.tell(self._bind_request(pod, node, on_done))

    async def send_binds(self, binds: builtins.list[tuple[Pod, str, Callback[Pod]]]) -> None:
        """`send_bind` for each `(pod, node, on_done)`, in one message: each binding
        is authorised, written and answered on its own, as if sent alone."""
        if len(binds) == 1:
            await self.send_bind(*binds[0])
            return
        await self.api.tell(BindMany([self._bind_request(*bind) for bind in binds]))

    def _bind_request(self, pod: Pod, node: str, on_done: Callback[Pod]) -> Bind:
        return Bind(
            binding=_binding(pod, node),
            reply=callback_reply(on_done),
            user=self.user,
            token=self._token,
            seen_version=pod.metadata.resource_version,
        )

    async def get_scale(self, kind: type[Any], name: str, namespace: str = "") -> Scale:
        user, token = self.user, self._token
        return await self.api.ask(
            lambda reply: GetScale(
                kind=kind, namespace=namespace, name=name, reply=reply, user=user, token=token
            ),
            self._timeout,
        )

    async def update_scale(self, kind: type[Any], scale: Scale) -> Scale:
        """Set `scale.spec.replicas` on a Deployment, ReplicaSet or ReplicationController."""
        user, token = self.user, self._token
        return await self.api.ask(
            lambda reply: UpdateScale(kind=kind, scale=scale, reply=reply, user=user, token=token),
            self._timeout,
        )


def _binding(pod: Pod, node: str) -> Binding:
    meta = pod.metadata
    return Binding(
        metadata=ObjectMeta(name=meta.name, namespace=meta.namespace, uid=meta.uid),
        target=ObjectReference(kind="Node", name=node, api_version="v1"),
    )
