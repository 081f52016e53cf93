"""`Client`: typed, awaitable requests to the in-process API server actor."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from ..actors import ActorRef
from ..api import (
    ApiObject,
    ApiRequest,
    ApiWatch,
    Create,
    Delete,
    Get,
    List,
    ObjectList,
    Update,
    Watch,
)
from ._callback import Callback, callback_reply

__all__ = ["Client"]

R = TypeVar("R", bound=ApiObject)


class Client:
    """Asks the API server actor; errors arrive as `ApiError` carrying a `Status`.

    Shaped like the HTTP client a later issue adds: every method names the kind,
    the namespace (empty: "default" for one object, all namespaces for list and
    watch) and the object.
    """

    def __init__(self, api: ActorRef[ApiRequest], *, timeout: float | None = None) -> None:
        self.api = api
        self._timeout = timeout

    async def create(self, obj: R) -> R:
        result: Any = await self.api.ask(lambda reply: Create(obj, reply), self._timeout)
        return cast(R, result)

    async def get(self, kind: type[R], name: str, namespace: str = "") -> R:
        result: Any = await self.api.ask(
            lambda reply: Get(kind, namespace, name, reply), self._timeout
        )
        return cast(R, result)

    async def list(self, kind: type[R], namespace: str = "") -> ObjectList[R]:
        result: ObjectList[Any] = await self.api.ask(
            lambda reply: List(kind, namespace, reply), self._timeout
        )
        return result

    async def update(self, obj: R) -> R:
        """Replace `obj`; raises a Conflict `ApiError` if its resourceVersion is stale."""
        result: Any = await self.api.ask(lambda reply: Update(obj, reply), self._timeout)
        return cast(R, result)

    async def send_update(self, obj: R, on_done: Callback[R]) -> None:
        """Send an update without waiting for the answer; waits only for mailbox room.

        `on_done(updated, None)` or `on_done(None, error)` is called in the task that
        answers, so it must be quick (tell an actor, say). For actors that must not
        block their mailbox on a reply, such as the scheduler binding pods.
        """
        await self.api.tell(Update(obj, callback_reply(on_done)))

    async def delete(self, kind: type[R], name: str, namespace: str = "") -> R:
        """Delete an object and return it as it was last stored."""
        result: Any = await self.api.ask(
            lambda reply: Delete(kind, namespace, name, reply), self._timeout
        )
        return cast(R, result)

    async def watch(
        self, kind: type[R], namespace: str = "", resource_version: str = ""
    ) -> ApiWatch[R]:
        """Changes after `resource_version`; unset or "0" first replays the current state."""
        result: ApiWatch[Any] = await self.api.ask(
            lambda reply: Watch(kind, namespace, resource_version, reply), self._timeout
        )
        return result
