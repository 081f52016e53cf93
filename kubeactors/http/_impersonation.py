"""Impersonation (`kubectl --as`, `--as-group`): a caller allowed the `impersonate` verb
acts as another user, as kube-apiserver's impersonation filter allows."""

from __future__ import annotations

from starlette.datastructures import Headers

from ..api import (
    ApiError,
    ResourceAttributes,
    SelfSubjectAccessReview,
    SelfSubjectAccessReviewSpec,
    SelfSubjectReview,
    UserInfo,
)
from ..client import Client
from ._errors import bad_request

__all__ = ["IMPERSONATED_SCOPE_KEY", "impersonated"]

IMPERSONATED_SCOPE_KEY = "kubeactors.impersonated"
"""Where the ASGI scope keeps the `UserInfo` a request impersonates."""

_AUTHENTICATED = "system:authenticated"
_SERVICE_ACCOUNT = "system:serviceaccount:"


async def _allowed(caller: Client, resource: str, name: str, namespace: str = "") -> bool:
    attributes = ResourceAttributes(
        verb="impersonate", resource=resource, name=name, namespace=namespace
    )
    review = await caller.create(
        SelfSubjectAccessReview(spec=SelfSubjectAccessReviewSpec(resource_attributes=attributes))
    )
    return review.status is not None and review.status.allowed


async def impersonated(headers: Headers, caller: Client) -> UserInfo | None:
    """The user a request impersonates (None: itself), once `caller` (the client of
    the authenticated caller) is found allowed to impersonate that user, each group
    and the uid; a 403 naming the first refused otherwise."""
    user = headers.get("impersonate-user", "")
    groups = headers.getlist("impersonate-group")
    uid = headers.get("impersonate-uid", "")
    if not user:
        if groups or uid:
            raise bad_request("requested impersonation of groups or a uid without a user")
        return None
    checks: list[tuple[str, str, str]] = []
    if user.startswith(_SERVICE_ACCOUNT) and user.count(":") == 3:
        namespace, name = user.removeprefix(_SERVICE_ACCOUNT).split(":")
        checks.append(("serviceaccounts", name, namespace))
    else:
        checks.append(("users", user, ""))
    checks += [("groups", group, "") for group in groups]
    if uid:
        checks.append(("uids", uid, ""))
    for resource, name, namespace in checks:
        if not await _allowed(caller, resource, name, namespace):
            whoami = await caller.create(SelfSubjectReview())
            me = whoami.status.user_info.username if whoami.status is not None else ""
            where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            raise ApiError.forbidden(
                resource,
                name,
                f'User "{me}" cannot impersonate resource "{resource}" in API group "" {where}',
            )
    if user != "system:anonymous" and _AUTHENTICATED not in groups:
        groups.append(_AUTHENTICATED)
    return UserInfo(user, uid, tuple(groups))
