"""Authorisation of paths that name no resource (discovery, `/openapi`, `/metrics`),
asked of the API server's authoriser as the caller, with a SelfSubjectAccessReview."""

from __future__ import annotations

from ..api import (
    ApiError,
    NonResourceAttributes,
    SelfSubjectAccessReview,
    SelfSubjectAccessReviewSpec,
    SelfSubjectReview,
    Status,
)
from ..client import Client

__all__ = ["authorize_path"]


async def authorize_path(client: Client, path: str, method: str) -> None:
    """Raise a 403 `ApiError` unless `client`'s caller may `method` `path`."""
    verb = "get" if method in ("GET", "HEAD") else method.lower()
    attributes = NonResourceAttributes(path=path, verb=verb)
    review = await client.create(
        SelfSubjectAccessReview(
            spec=SelfSubjectAccessReviewSpec(non_resource_attributes=attributes)
        )
    )
    if review.status is not None and review.status.allowed:
        return
    # Refused: name the caller as upstream's message does (one more question, only now).
    whoami = await client.create(SelfSubjectReview())
    user = whoami.status.user_info.username if whoami.status is not None else ""
    message = f'forbidden: User "{user}" cannot {verb} path "{path}"'
    raise ApiError(Status(message=message, reason="Forbidden", code=403))
