"""`ApiClient`: what every client of the API server offers, in process or over HTTP.

Controllers, informers and the scheduler are written against this protocol, so the
in-process `Client` and the HTTP client serve them alike.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from ..api import ApiObject, ObjectList, PatchType, Pod, Scale, WatchEvent
from ._callback import Callback

__all__ = ["ApiClient", "EventStream"]

R = TypeVar("R", bound=ApiObject)
T = TypeVar("T")


class EventStream(Protocol[T]):
    """A watch: batches of events (`async for batch in stream`), ended by `close()`.

    Iteration raises `ApiError` 410 when the watch expires: list again.
    """

    def __aiter__(self) -> EventStream[T]: ...

    async def __anext__(self) -> list[WatchEvent[T]]: ...

    def close(self) -> None: ...


class ApiClient(Protocol):
    """Requests to the API server; failures raise `ApiError` carrying a `Status`."""

    async def create(self, obj: R) -> R: ...

    async def get(self, kind: type[R], name: str, namespace: str = "") -> R: ...

    async def list(
        self,
        kind: type[R],
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_: str = "",
    ) -> ObjectList[R]: ...

    async def update(self, obj: R) -> R: ...

    async def update_status(self, obj: R) -> R: ...

    async def send_update(self, obj: R, on_done: Callback[R], *, subresource: str = "") -> None: ...

    async def patch(
        self,
        kind: type[R],
        name: str,
        patch: Any,
        *,
        patch_type: PatchType = "strategic",
        namespace: str = "",
        subresource: str = "",
    ) -> R: ...

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
    ) -> R: ...

    async def watch(
        self,
        kind: type[R],
        namespace: str = "",
        resource_version: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        allow_bookmarks: bool = False,
    ) -> EventStream[R]: ...

    async def bind(self, pod: Pod, node: str) -> Pod: ...

    async def get_scale(self, kind: type[Any], name: str, namespace: str = "") -> Scale: ...

    async def update_scale(self, kind: type[Any], scale: Scale) -> Scale: ...
