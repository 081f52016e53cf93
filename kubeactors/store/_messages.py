"""The requests the store actor handles; each answers through its `reply`."""

from __future__ import annotations

import msgspec

from ..actors import Reply
from ._ops import TxnOp
from ._types import (
    DeleteResult,
    KeyValue,
    LeaseGrantResult,
    LeaseTimeToLive,
    RangeResult,
    TxnResult,
    WriteResult,
)
from ._watch import WatchStream

__all__ = [
    "Compact",
    "Delete",
    "DeleteRange",
    "Get",
    "LeaseGrant",
    "LeaseKeepAlive",
    "LeaseList",
    "LeaseRevoke",
    "LeaseTimeToLiveRequest",
    "Put",
    "PutMany",
    "Range",
    "Status",
    "StoreRequest",
    "StoreStatus",
    "Tick",
    "Txn",
    "Watch",
]


class Put(msgspec.Struct, frozen=True):
    """Write `value` at `key`. `expect_mod_revision` makes it conditional: 0 means
    the key must not exist, N means its current `mod_revision` must be N."""

    key: bytes
    value: bytes
    reply: Reply[WriteResult]
    expect_mod_revision: int | None = None
    lease: int = 0
    ignore_value: bool = False
    ignore_lease: bool = False


class PutMany(msgspec.Struct, frozen=True):
    """The `puts`, in order, in one message: each is handled exactly as if it came
    alone (its own check, revision, watch event and reply; one failing does not stop
    the rest). The API server sends so the writes of a batch of updates, and those of
    the creates it handled in one turn of the event loop."""

    puts: list[Put]


class Delete(msgspec.Struct, frozen=True):
    """Delete one key, conditionally like `Put`; deleting a missing key takes no revision."""

    key: bytes
    reply: Reply[WriteResult]
    expect_mod_revision: int | None = None


class DeleteRange(msgspec.Struct, frozen=True):
    key: bytes
    range_end: bytes | None
    reply: Reply[DeleteResult]
    prev_kv: bool = False


class Get(msgspec.Struct, frozen=True):
    key: bytes
    reply: Reply[KeyValue | None]


class Range(msgspec.Struct, frozen=True):
    """Read `[key, range_end)`; `revision` 0 reads now, N reads history (from SQLite)."""

    key: bytes
    range_end: bytes | None
    reply: Reply[RangeResult]
    limit: int = 0
    revision: int = 0
    keys_only: bool = False
    count_only: bool = False


class Txn(msgspec.Struct, frozen=True):
    txn: TxnOp
    reply: Reply[TxnResult]


class Watch(msgspec.Struct, frozen=True):
    """Open a watch on `[key, range_end)` from `start_revision` (0: from now on)."""

    key: bytes
    range_end: bytes | None
    start_revision: int
    reply: Reply[WatchStream]
    capacity: int = 100_000
    prev_kv: bool = True
    no_put: bool = False
    no_delete: bool = False
    progress_notify: bool = False


class Compact(msgspec.Struct, frozen=True):
    """Drop history superseded at or below `revision`; answers the revision then."""

    revision: int
    reply: Reply[int]


class LeaseGrant(msgspec.Struct, frozen=True):
    ttl: int
    reply: Reply[LeaseGrantResult]
    id: int = 0


class LeaseRevoke(msgspec.Struct, frozen=True):
    id: int
    reply: Reply[int]


class LeaseKeepAlive(msgspec.Struct, frozen=True):
    id: int
    reply: Reply[int]


class LeaseTimeToLiveRequest(msgspec.Struct, frozen=True):
    id: int
    reply: Reply[LeaseTimeToLive]
    keys: bool = False


class LeaseList(msgspec.Struct, frozen=True):
    """The ids of every live lease, ascending."""

    reply: Reply[list[int]]


class StoreStatus(msgspec.Struct, frozen=True):
    """The committed revision, the compaction point and how far history below it has
    been physically removed, and the sizes of the live state."""

    revision: int
    compact_revision: int
    keys: int
    watchers: int
    leases: int
    compacted_through: int = 0


class Status(msgspec.Struct, frozen=True):
    reply: Reply[StoreStatus]


class Tick(msgspec.Struct, frozen=True):
    """The store's own timer: expire leases (`progress` False) or notify progress."""

    progress: bool = False


StoreRequest = (
    Put
    | PutMany
    | Delete
    | DeleteRange
    | Get
    | Range
    | Txn
    | Watch
    | Compact
    | LeaseGrant
    | LeaseRevoke
    | LeaseKeepAlive
    | LeaseTimeToLiveRequest
    | LeaseList
    | Status
    | Tick
)
