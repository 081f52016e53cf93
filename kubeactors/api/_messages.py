"""The requests the API server actor handles; each answers through its `reply`.

Every request names who asks: `user` for an in-process component (trusted, as a
client certificate would be), or `token` for a bearer token the server checks.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..actors import Reply
from ._apps import Scale
from ._auth import UserInfo
from ._core import Binding
from ._kinds import Resource
from ._meta import ObjectList
from ._patch import PatchType
from ._watch import ApiWatch

__all__ = [
    "ApiRequest",
    "Bind",
    "BindMany",
    "Create",
    "Delete",
    "Get",
    "GetScale",
    "List",
    "Patch",
    "PropagationPolicy",
    "Update",
    "UpdateMany",
    "UpdateScale",
    "Watch",
]


class Create(msgspec.Struct, frozen=True):
    """Create `obj`; `metadata.generateName` makes a unique name when `name` is empty.

    A generated name that is taken already is generated again, up to
    `name_attempts` times in all, as Kubernetes does.
    """

    obj: Resource
    reply: Reply[Any]
    name_attempts: int = 8
    user: UserInfo | None = None
    token: str = ""


class Get(msgspec.Struct, frozen=True):
    kind: type[Any]
    namespace: str
    name: str
    reply: Reply[Any]
    user: UserInfo | None = None
    token: str = ""


class List(msgspec.Struct, frozen=True):
    """List objects of `kind` (in `namespace`, or in all when empty) that match the
    selectors, at most `limit` (0: all) from where `continue_` says the last page ended."""

    kind: type[Any]
    namespace: str
    reply: Reply[ObjectList[Any]]
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_: str = ""
    user: UserInfo | None = None
    token: str = ""


class Update(msgspec.Struct, frozen=True):
    """Replace an object (or only its status, with `subresource="status"`); fails with
    Conflict unless its resourceVersion is current."""

    obj: Resource
    reply: Reply[Any]
    subresource: str = ""
    user: UserInfo | None = None
    token: str = ""


class Patch(msgspec.Struct, frozen=True, kw_only=True):
    """Apply a JSON, merge or strategic merge patch (decoded JSON) to the stored object."""

    kind: type[Any]
    namespace: str
    name: str
    patch: Any
    patch_type: PatchType
    reply: Reply[Any]
    subresource: str = ""
    user: UserInfo | None = None
    token: str = ""


PropagationPolicy = str
""""Orphan", "Background" or "Foreground" ("" for the kind's default)."""


class Delete(msgspec.Struct, frozen=True):
    """Delete an object; with finalizers (or Orphan/Foreground propagation) it is only
    marked with `deletionTimestamp` until the last finalizer is removed. A pod bound
    to a node is marked for `grace_period_seconds` (default: its
    terminationGracePeriodSeconds) for its kubelet to stop it and delete it with 0."""

    kind: type[Any]
    namespace: str
    name: str
    reply: Reply[Any]
    propagation_policy: PropagationPolicy = ""
    precondition_uid: str = ""
    precondition_resource_version: str = ""
    grace_period_seconds: int | None = None
    user: UserInfo | None = None
    token: str = ""


class Watch(msgspec.Struct, frozen=True):
    """Watch `kind` after `resource_version`; unset or "0" starts with ADDED events."""

    kind: type[Any]
    namespace: str
    resource_version: str
    reply: Reply[ApiWatch[Any]]
    label_selector: str = ""
    field_selector: str = ""
    allow_bookmarks: bool = False
    user: UserInfo | None = None
    token: str = ""


class Bind(msgspec.Struct, frozen=True, kw_only=True):
    """Bind the pod `binding.metadata.name` to the node `binding.target.name`."""

    binding: Binding
    reply: Reply[Any]
    user: UserInfo | None = None
    token: str = ""
    seen_version: str = ""
    """The pod's resourceVersion as the binder last saw it. Not a precondition: when
    the server has that version at hand it writes the binding conditionally on it
    without reading first; if the pod has changed since, it reads and retries."""


class GetScale(msgspec.Struct, frozen=True, kw_only=True):
    kind: type[Any]
    namespace: str
    name: str
    reply: Reply[Scale]
    user: UserInfo | None = None
    token: str = ""


class UpdateScale(msgspec.Struct, frozen=True, kw_only=True):
    """Set the replicas of a Deployment, ReplicaSet or ReplicationController."""

    kind: type[Any]
    scale: Scale
    reply: Reply[Scale]
    user: UserInfo | None = None
    token: str = ""


class UpdateMany(msgspec.Struct, frozen=True):
    """The `updates` (each with `reply=api.BATCHED`), applied in order, each as if it
    came alone; `reply` gets one answer per update, in order: the object as written,
    or the error it met. For simulated nodes renewing thousands of Leases at once."""

    updates: list[Update]
    reply: Reply[list[Any]]


class BindMany(msgspec.Struct, frozen=True):
    """The `binds`, each handled as if it came alone (its own user, authorisation,
    conditional write and reply), in one message: a scheduler places pods faster than
    one message each to the API server costs."""

    binds: list[Bind]


ApiRequest = (
    Create
    | Get
    | List
    | Update
    | Patch
    | Delete
    | Watch
    | Bind
    | GetScale
    | UpdateScale
    | UpdateMany
    | BindMany
)
