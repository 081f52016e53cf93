"""The `pods/<name>/log` subresource: container logs, read from the pod's node."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import msgspec

from ..api import ApiError, Status, StatusDetails
from ._errors import bad_request

__all__ = ["LogReader", "LogRequest", "log_request"]

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


LogReader = Callable[[LogRequest], Awaitable[list[str]]]
"""Reads a container's log lines from the kubelet of `LogRequest.node`."""


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
    if params.get("follow") in _TRUE:
        raise bad_request("follow: streaming logs (kubectl logs -f) is not supported yet")
    return LogRequest(
        namespace=namespace,
        pod=pod,
        node=node,
        container=params.get("container", ""),
        tail=_non_negative(params, "tailLines"),
        previous=params.get("previous") in _TRUE,
        timestamps=params.get("timestamps") in _TRUE,
    )
