"""Kubernetes `Status` errors: what every failed API request answers with."""

from __future__ import annotations

import msgspec

from ._base import ObjectStruct, WireStruct
from ._meta import ListMeta

__all__ = ["ApiError", "Status", "StatusCause", "StatusDetails", "bad_request", "internal_error"]


class StatusCause(WireStruct, frozen=True):
    reason: str = ""
    message: str = ""
    field: str = ""


class StatusDetails(WireStruct, frozen=True):
    name: str = ""
    group: str = ""
    kind: str = ""
    causes: list[StatusCause] = msgspec.field(default_factory=list)


class Status(ObjectStruct, frozen=True):
    """metav1.Status with status "Failure"; every field is written, as on the wire."""

    api_version: str = "v1"
    kind: str = "Status"
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    status: str = "Failure"
    message: str = ""
    reason: str = ""
    details: StatusDetails = msgspec.field(default_factory=StatusDetails)
    code: int = 0


class ApiError(Exception):
    """A failed API request, carrying the Kubernetes `Status` that describes it."""

    def __init__(self, status: Status) -> None:
        self.status = status
        super().__init__(status.message)

    @property
    def code(self) -> int:
        return self.status.code

    @property
    def reason(self) -> str:
        return self.status.reason

    @classmethod
    def not_found(cls, kind: str, name: str) -> ApiError:
        return cls._make(404, "NotFound", f'{kind} "{name}" not found', kind, name)

    @classmethod
    def already_exists(cls, kind: str, name: str) -> ApiError:
        return cls._make(409, "AlreadyExists", f'{kind} "{name}" already exists', kind, name)

    @classmethod
    def conflict(cls, kind: str, name: str, detail: str = "") -> ApiError:
        detail = detail or (
            "the object has been modified; please apply your changes to the latest "
            "version and try again"
        )
        message = f'Operation cannot be fulfilled on {kind} "{name}": {detail}'
        return cls._make(409, "Conflict", message, kind, name)

    @classmethod
    def forbidden(cls, kind: str, name: str, reason: str) -> ApiError:
        """403: authorisation or an admission plugin refused the request."""
        what = f'{kind} "{name}"' if name else kind
        return cls._make(403, "Forbidden", f"{what} is forbidden: {reason}", kind, name)

    @classmethod
    def unauthorized(cls, message: str = "Unauthorized") -> ApiError:
        """401: the request carries no credentials, or credentials nobody issued."""
        return cls(Status(message=message, reason="Unauthorized", code=401))

    @classmethod
    def method_not_allowed(cls, message: str) -> ApiError:
        """405: the resource does not support the verb (a subresource it lacks, say)."""
        return cls(Status(message=message, reason="MethodNotAllowed", code=405))

    @classmethod
    def expired(cls, message: str) -> ApiError:
        """410: the requested resourceVersion is too old (compacted); relist."""
        return cls(Status(message=message, reason="Expired", code=410))

    @classmethod
    def too_large(cls, message: str) -> ApiError:
        """413: the object is larger than the store accepts."""
        return cls(
            Status(
                message=f"Request entity too large: {message}",
                reason="RequestEntityTooLarge",
                code=413,
            )
        )

    @classmethod
    def invalid(cls, kind: str, name: str, causes: list[StatusCause]) -> ApiError:
        """422: `causes` name each field at fault, as `field: Invalid value: ...`."""
        detail = "; ".join(f"{cause.field}: {cause.message}" for cause in causes)
        message = f'{kind} "{name}" is invalid: {detail}'
        return cls._make(422, "Invalid", message, kind, name, causes)

    @classmethod
    def _make(
        cls,
        code: int,
        reason: str,
        message: str,
        kind: str,
        name: str,
        causes: list[StatusCause] | None = None,
    ) -> ApiError:
        details = StatusDetails(name=name, kind=kind, causes=causes or [])
        return cls(Status(message=message, reason=reason, details=details, code=code))


def bad_request(message: str) -> ApiError:
    """400: a request that is malformed as a whole (not one object's field)."""
    return ApiError(Status(message=message, reason="BadRequest", code=400))


def internal_error(message: str) -> ApiError:
    """500: the server failed to do what was asked (the store failed, for one)."""
    return ApiError(Status(message=message, reason="InternalError", code=500))
