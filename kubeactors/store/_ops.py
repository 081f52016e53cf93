"""The parts of a transaction, as in etcd's TxnRequest: compares and request ops."""

from __future__ import annotations

import enum

import msgspec

__all__ = [
    "Compare",
    "CompareResult",
    "CompareTarget",
    "DeleteOp",
    "Op",
    "PutOp",
    "RangeOp",
    "TxnOp",
]


class CompareTarget(enum.Enum):
    VERSION = "VERSION"
    CREATE = "CREATE"
    MOD = "MOD"
    VALUE = "VALUE"
    LEASE = "LEASE"


class CompareResult(enum.Enum):
    EQUAL = "EQUAL"
    GREATER = "GREATER"
    LESS = "LESS"
    NOT_EQUAL = "NOT_EQUAL"


class Compare(msgspec.Struct, frozen=True):
    """`target(key) result value` for `key`, or for every key in `[key, range_end)`.

    A missing key compares as zeros; a value compare on a missing key is false (etcd).
    """

    key: bytes
    target: CompareTarget
    result: CompareResult
    value: int | bytes
    range_end: bytes | None = None


class RangeOp(msgspec.Struct, frozen=True):
    """Read `[key, range_end)` (one key when `range_end` is None); see `Store.range`."""

    key: bytes
    range_end: bytes | None = None
    limit: int = 0
    revision: int = 0
    keys_only: bool = False
    count_only: bool = False


class PutOp(msgspec.Struct, frozen=True):
    key: bytes
    value: bytes = b""
    lease: int = 0
    prev_kv: bool = False
    ignore_value: bool = False
    ignore_lease: bool = False


class DeleteOp(msgspec.Struct, frozen=True):
    key: bytes
    range_end: bytes | None = None
    prev_kv: bool = False


class TxnOp(msgspec.Struct, frozen=True):
    """If every compare holds, run `success`, else `failure`: one revision for all."""

    compares: list[Compare] = msgspec.field(default_factory=list)
    success: list[RangeOp | PutOp | DeleteOp | TxnOp] = msgspec.field(default_factory=list)
    failure: list[RangeOp | PutOp | DeleteOp | TxnOp] = msgspec.field(default_factory=list)


Op = RangeOp | PutOp | DeleteOp | TxnOp
