"""The `pods/<name>/log` subresource: container logs, read from the pod's node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import msgspec
from starlette.responses import Response, StreamingResponse

from ..api import ApiError, Status, StatusDetails
from ._errors import bad_request

__all__ = ["LogLines", "LogReader", "LogRequest", "log_request", "log_response"]

_TRUE = ("1", "true", "True")


class LogRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What `GET pods/<name>/log` asks of the node that runs the pod."""

    namespace: str
    pod: str
    node: str
    container: str = ""
    tail: int | None = None
    previous: bool = False
    timestamps: bool = False
    follow: bool = False


LogLines = list[str] | AsyncIterator[list[str]]
"""The lines of a log, or (when following) batches of them as they are written."""

LogReader = Callable[[LogRequest], Awaitable[LogLines]]
"""Reads a container's log lines from the kubelet of `LogRequest.node`.

For a request with `follow`, the answer is an iterator of batches of lines that
ends when the container does; it is closed early when the client goes away.
"""


def _non_negative(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"{name}: Invalid value: {text!r}: must be an integer") from None
    if value < 0:
        raise bad_request(f"{name}: Invalid value: {value}: must be greater than or equal to 0")
    return value


def log_request(namespace: str, pod: str, node: str, params: Mapping[str, str]) -> LogRequest:
    """The request for a pod's logs from the query (`container`, `tailLines`, ...)."""
    if not node:
        raise ApiError(
            Status(
                message=f'pod "{pod}" is not scheduled yet: it has no logs',
                reason="BadRequest",
                code=400,
                details=StatusDetails(name=pod, kind="pods"),
            )
        )
    return LogRequest(
        namespace=namespace,
        pod=pod,
        node=node,
        container=params.get("container", ""),
        tail=_non_negative(params, "tailLines"),
        previous=params.get("previous") in _TRUE,
        timestamps=params.get("timestamps") in _TRUE,
        follow=params.get("follow") in _TRUE,
    )


def _text(lines: list[str]) -> str:
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


async def _stream(batches: AsyncIterator[list[str]]) -> AsyncIterator[str]:
    try:
        async for lines in batches:
            if lines:
                yield _text(lines)
    finally:
        closing = getattr(batches, "aclose", None)
        if closing is not None:
            await closing()


async def log_response(reader: LogReader, request: LogRequest) -> Response:
    """The answer to `GET pods/<name>/log`: plain text, streamed (chunked) when following.

    Errors (no such container, say) come before the first byte, so they are Status
    responses; a followed log then flows until the container ends or the client leaves.
    """
    lines = await reader(request)
    if isinstance(lines, list):
        return Response(_text(lines), media_type="text/plain")
    return StreamingResponse(_stream(lines), media_type="text/plain")
