"""Kubernetes `Status` error responses for what the REST layer itself refuses."""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from ..api import ApiError, Status, StatusDetails

__all__ = [
    "bad_request",
    "forbidden",
    "internal_error",
    "method_not_allowed",
    "path_not_found",
    "status_response",
    "unauthorized",
    "unsupported_media_type",
]

_encoder = msgspec.json.Encoder()


def status_response(error: ApiError) -> Response:
    """The JSON `Status` of an error, with its HTTP code."""
    return Response(
        _encoder.encode(error.status), status_code=error.code, media_type="application/json"
    )


def _error(code: int, reason: str, message: str) -> ApiError:
    return ApiError(Status(message=message, reason=reason, code=code, details=StatusDetails()))


def path_not_found() -> ApiError:
    """404 for a path no resource lives at (upstream's words, which kubectl prints)."""
    return _error(404, "NotFound", "the server could not find the requested resource")


def method_not_allowed(method: str, what: str) -> ApiError:
    return _error(405, "MethodNotAllowed", f"{method} is not supported on {what}")


def unauthorized() -> ApiError:
    return _error(401, "Unauthorized", "Unauthorized")


def forbidden(message: str) -> ApiError:
    return _error(403, "Forbidden", message)


def bad_request(message: str) -> ApiError:
    return _error(400, "BadRequest", message)


def unsupported_media_type(content_type: str, detail: str = "") -> ApiError:
    """415, listing what the server reads; `detail` says more (a kind not read in protobuf)."""
    return _error(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"application/json, application/yaml, application/vnd.kubernetes.protobuf "
        f"(got {content_type or 'none'}){'; ' + detail if detail else ''}",
    )


def internal_error(message: str) -> ApiError:
    return _error(500, "InternalError", message)
