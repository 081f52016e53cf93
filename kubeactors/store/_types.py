"""The store's data: key-values with etcd's revision fields, and change events."""

from __future__ import annotations

import enum

import msgspec

__all__ = [
    "CompactedError",
    "ConflictError",
    "Event",
    "EventType",
    "FutureRevisionError",
    "KeyValue",
    "RangeResult",
    "StoreError",
    "WriteResult",
]


class KeyValue(msgspec.Struct, frozen=True, gc=False):
    """One version of a key, with the same revision fields as etcd's mvccpb.KeyValue."""

    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int = 0


class EventType(enum.Enum):
    PUT = "PUT"
    DELETE = "DELETE"


class Event(msgspec.Struct, frozen=True, gc=False):
    """A change to one key. For a delete, `kv` carries the key and the delete's revision."""

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None = None


class RangeResult(msgspec.Struct, frozen=True):
    kvs: list[KeyValue]
    revision: int
    count: int
    more: bool = False


class WriteResult(msgspec.Struct, frozen=True):
    """The outcome of a put or delete: the revision it committed at."""

    revision: int
    prev_kv: KeyValue | None = None
    kv: KeyValue | None = None


class StoreError(Exception):
    """Base of the errors the store reports to its callers."""


class ConflictError(StoreError):
    """A conditional write found the key at another revision than expected."""

    def __init__(self, key: bytes, expected: int, actual: int) -> None:
        self.key = key
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"conflict on key {key!r}: expected mod_revision {expected}, found {actual}"
        )


class CompactedError(StoreError):
    """The requested revision has been compacted away."""

    def __init__(self, requested: int, compact_revision: int) -> None:
        self.requested = requested
        self.compact_revision = compact_revision
        super().__init__(
            f"required revision {requested} has been compacted (compact revision "
            f"{compact_revision})"
        )


class FutureRevisionError(StoreError):
    """The requested revision is above the current one."""

    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"required revision {requested} is a future revision (current {current})")
