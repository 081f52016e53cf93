"""The etcd role: a revisioned key-value log on SQLite with watches."""

from ._actor import StoreActor
from ._client import Store
from ._keys import in_range, prefix_end
from ._messages import Delete, Get, Put, Range, StoreRequest, Watch
from ._types import (
    CompactedError,
    ConflictError,
    Event,
    EventType,
    FutureRevisionError,
    KeyValue,
    RangeResult,
    StoreError,
    WriteResult,
)
from ._watch import WatchCancelledError, WatchHub, WatchStream

__all__ = [
    "CompactedError",
    "ConflictError",
    "Delete",
    "Event",
    "EventType",
    "FutureRevisionError",
    "Get",
    "KeyValue",
    "Put",
    "Range",
    "RangeResult",
    "Store",
    "StoreActor",
    "StoreError",
    "StoreRequest",
    "Watch",
    "WatchCancelledError",
    "WatchHub",
    "WatchStream",
    "WriteResult",
    "in_range",
    "prefix_end",
]
