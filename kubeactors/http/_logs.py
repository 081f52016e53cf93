"""The `pods/<name>/log` subresource: container logs, read from the pod's node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import msgspec
from starlette.responses import Response, StreamingResponse

from ..api import ApiError, Status, StatusCause, StatusDetails, parse_time
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
    since_seconds: int | None = None
    since_time: float | None = None
    limit_bytes: int | None = None


LogLines = list[str] | AsyncIterator[list[str]]
"""The lines of a log, or (when following) batches of them as they are written."""

LogReader = Callable[[LogRequest], Awaitable[LogLines]]
"""Reads a container's log lines from the kubelet of `LogRequest.node`.

For a request with `follow`, the answer is an iterator of batches of lines that
ends when the container does; it is closed early when the client goes away.
"""


def _integer(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise bad_request(f"{name}: Invalid value: {text!r}: must be an integer") from None


def _moment(params: Mapping[str, str], name: str) -> float | None:
    text = params.get(name)
    if text is None:
        return None
    moment = parse_time(text)
    if moment is None:
        raise bad_request(f"{name}: Invalid value: {text!r}: must be an RFC 3339 time")
    return moment.timestamp()


def _invalid_options(request: LogRequest) -> list[StatusCause]:
    """What upstream's validation of `PodLogOptions` refuses, field by field."""
    causes: list[StatusCause] = []

    def invalid(field: str, value: int, message: str) -> None:
        causes.append(
            StatusCause(
                reason="FieldValueInvalid",
                field=field,
                message=f"Invalid value: {value}: {message}",
            )
        )

    if request.tail is not None and request.tail < 0:
        invalid("tailLines", request.tail, "must be greater than or equal to 0")
    if request.limit_bytes is not None and request.limit_bytes < 1:
        invalid("limitBytes", request.limit_bytes, "must be greater than 0")
    if request.since_seconds is not None and request.since_time is not None:
        causes.append(
            StatusCause(
                reason="FieldValueForbidden",
                message="Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
            )
        )
    elif request.since_seconds is not None and request.since_seconds < 1:
        invalid("sinceSeconds", request.since_seconds, "must be greater than 0")
    return causes


def log_request(namespace: str, pod: str, node: str, params: Mapping[str, str]) -> LogRequest:
    """The request for a pod's logs from the query (`container`, `tailLines`, ...),
    refused as upstream refuses it: a value that does not parse is a bad request, one
    out of range makes the `PodLogOptions` invalid."""
    request = LogRequest(
        namespace=namespace,
        pod=pod,
        node=node,
        container=params.get("container", ""),
        tail=_integer(params, "tailLines"),
        previous=params.get("previous") in _TRUE,
        timestamps=params.get("timestamps") in _TRUE,
        follow=params.get("follow") in _TRUE,
        since_seconds=_integer(params, "sinceSeconds"),
        since_time=_moment(params, "sinceTime"),
        limit_bytes=_integer(params, "limitBytes"),
    )
    causes = _invalid_options(request)
    if causes:
        raise ApiError.invalid("PodLogOptions", pod, causes)
    if not node:
        raise ApiError(
            Status(
                message=f'pod "{pod}" is not scheduled yet: it has no logs',
                reason="BadRequest",
                code=400,
                details=StatusDetails(name=pod, kind="pods"),
            )
        )
    return request


def _text(lines: list[str]) -> str:
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


async def _stream(batches: AsyncIterator[list[str]], limit: int | None) -> AsyncIterator[bytes]:
    """The batches as text; after `limit` bytes (mid-line if need be) the stream ends,
    as `limitBytes` asks, and the node's reader is closed."""
    left = limit
    try:
        async for lines in batches:
            if not lines:
                continue
            chunk = _text(lines).encode()
            if left is not None:
                chunk, left = chunk[:left], left - len(chunk)
            yield chunk
            if left is not None and left <= 0:
                return
    finally:
        closing = getattr(batches, "aclose", None)
        if closing is not None:
            await closing()


async def log_response(reader: LogReader, request: LogRequest) -> Response:
    """The answer to `GET pods/<name>/log`: plain text, streamed (chunked) when following.

    Errors (no such container, say) come before the first byte, so they are Status
    responses; a followed log then flows until the container ends, the client leaves
    or `limitBytes` is reached.
    """
    lines = await reader(request)
    if isinstance(lines, list):
        body = _text(lines).encode()
        if request.limit_bytes is not None:
            body = body[: request.limit_bytes]
        return Response(body, media_type="text/plain")
    return StreamingResponse(_stream(lines, request.limit_bytes), media_type="text/plain")
