"""The requests the API server actor handles; each answers through its `reply`."""

from __future__ import annotations

from typing import Any

import msgspec

from ..actors import Reply
from ._kinds import Resource
from ._meta import ObjectList
from ._watch import ApiWatch

__all__ = ["ApiRequest", "Create", "Delete", "Get", "List", "Update", "Watch"]


class Create(msgspec.Struct, frozen=True):
    """Create `obj`; `metadata.generateName` makes a unique name when `name` is empty.

    A generated name that is taken already is generated again, up to
    `name_attempts` times in all, as Kubernetes does.
    """

    obj: Resource
    reply: Reply[Any]
    name_attempts: int = 8


class Get(msgspec.Struct, frozen=True):
    kind: type[Any]
    namespace: str
    name: str
    reply: Reply[Any]


class List(msgspec.Struct, frozen=True):
    """List every object of `kind` (in `namespace`, or in all when empty)."""

    kind: type[Any]
    namespace: str
    reply: Reply[ObjectList[Any]]


class Update(msgspec.Struct, frozen=True):
    """Replace an object; fails with Conflict unless its resourceVersion is current."""

    obj: Resource
    reply: Reply[Any]


class Delete(msgspec.Struct, frozen=True):
    kind: type[Any]
    namespace: str
    name: str
    reply: Reply[Any]


class Watch(msgspec.Struct, frozen=True):
    """Watch `kind` after `resource_version`; unset or "0" starts with ADDED events."""

    kind: type[Any]
    namespace: str
    resource_version: str
    reply: Reply[ApiWatch[Any]]


ApiRequest = Create | Get | List | Update | Delete | Watch
