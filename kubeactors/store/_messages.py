"""The requests the store actor handles; each answers through its `reply`."""

from __future__ import annotations

import msgspec

from ..actors import Reply
from ._types import KeyValue, RangeResult, WriteResult
from ._watch import WatchStream

__all__ = ["Delete", "Get", "Put", "Range", "StoreRequest", "Watch"]


class Put(msgspec.Struct, frozen=True):
    """Write `value` at `key`. `expect_mod_revision` makes it conditional: 0 means
    the key must not exist, N means its current `mod_revision` must be N."""

    key: bytes
    value: bytes
    reply: Reply[WriteResult]
    expect_mod_revision: int | None = None


class Delete(msgspec.Struct, frozen=True):
    key: bytes
    reply: Reply[WriteResult]
    expect_mod_revision: int | None = None


class Get(msgspec.Struct, frozen=True):
    key: bytes
    reply: Reply[KeyValue | None]


class Range(msgspec.Struct, frozen=True):
    key: bytes
    range_end: bytes | None
    reply: Reply[RangeResult]
    limit: int = 0


class Watch(msgspec.Struct, frozen=True):
    """Open a watch on `[key, range_end)` from `start_revision` (0: from now on)."""

    key: bytes
    range_end: bytes | None
    start_revision: int
    reply: Reply[WatchStream]
    capacity: int = 100_000


StoreRequest = Put | Delete | Get | Range | Watch
