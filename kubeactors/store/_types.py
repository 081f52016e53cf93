"""The store's data: key-values with etcd's revision fields, change events, results."""

from __future__ import annotations

import enum

import msgspec

__all__ = [
    "DeleteResult",
    "Event",
    "EventType",
    "KeyValue",
    "LeaseGrantResult",
    "LeaseTimeToLive",
    "PutResult",
    "RangeResult",
    "TxnResult",
    "WriteResult",
]


class KeyValue(msgspec.Struct, frozen=True, gc=False):
    """One version of a key, with the same revision fields as etcd's mvccpb.KeyValue.

    A tombstone (the `kv` of a delete event) has `version` 0 and `create_revision` 0.
    """

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
    """The keys found, the store's current revision, the count before `limit`, and
    whether `limit` cut the answer short."""

    kvs: list[KeyValue]
    revision: int
    count: int
    more: bool = False


class WriteResult(msgspec.Struct, frozen=True):
    """The outcome of a single-key put or delete: the revision it committed at."""

    revision: int
    prev_kv: KeyValue | None = None
    kv: KeyValue | None = None


class PutResult(msgspec.Struct, frozen=True):
    """A put inside a txn (etcd's PutResponse): `prev_kv` only when asked for."""

    revision: int
    prev_kv: KeyValue | None = None


class DeleteResult(msgspec.Struct, frozen=True):
    """A delete-range (etcd's DeleteRangeResponse): `prev_kvs` only when asked for."""

    revision: int
    deleted: int
    prev_kvs: list[KeyValue] = msgspec.field(default_factory=list)


class TxnResult(msgspec.Struct, frozen=True):
    """Which branch ran, one response per op of that branch, and the revision after."""

    succeeded: bool
    responses: list[RangeResult | PutResult | DeleteResult | TxnResult]
    revision: int


class LeaseGrantResult(msgspec.Struct, frozen=True):
    id: int
    ttl: int
    revision: int


class LeaseTimeToLive(msgspec.Struct, frozen=True):
    """Remaining seconds (-1 for an unknown or expired lease), the TTL granted, keys."""

    id: int
    ttl: int
    granted_ttl: int
    keys: list[bytes] = msgspec.field(default_factory=list)
