"""An object stamped with the revision the store wrote it at (its resourceVersion).

A module of its own so that it is compiled: the API server stamps every object it
writes (every Lease renewal and node status post) and every one it decodes.
"""

from __future__ import annotations

from typing import Final, TypeVar

import msgspec

from ._meta import ApiObject

__all__ = ["with_resource_version"]

R = TypeVar("R", bound=ApiObject)

# Bound once: `msgspec.structs.replace` would be two attribute reads per call.
_replace: Final = msgspec.structs.replace


def with_resource_version(obj: R, revision: int) -> R:
    """`obj` with `metadata.resource_version` set to `revision` (a copy)."""
    meta = _replace(obj.metadata, resource_version=str(revision))
    return _replace(obj, metadata=meta)
