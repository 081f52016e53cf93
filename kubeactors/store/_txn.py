"""Checking and applying transactions on the in-memory index, as etcd's apply does.

A transaction is checked completely before anything changes: static checks (sizes,
op counts, empty keys, duplicate keys), then the branch each compare picks, then the
checks that need state (leases, ignore_value on a missing key). Only then are its
ops applied, all at one revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from ._errors import (
    DuplicateKeyError,
    EmptyKeyError,
    InvalidArgumentError,
    KeyNotFoundError,
    LeaseNotFoundError,
    LeaseProvidedError,
    RequestTooLargeError,
    TooManyOpsError,
    ValueProvidedError,
)
from ._index import KeyIndex
from ._lease import LeaseTable
from ._ops import Compare, CompareResult, CompareTarget, DeleteOp, Op, PutOp, RangeOp, TxnOp
from ._types import DeleteResult, Event, EventType, KeyValue, PutResult, RangeResult, TxnResult

__all__ = ["Applier", "check_put", "check_range", "check_txn", "compare_holds", "request_size"]


def request_size(txn: TxnOp) -> int:
    """The approximate encoded size of a transaction, for `max_request_bytes`."""
    size = 0
    for compare in txn.compares:
        size += 16 + len(compare.key) + len(compare.range_end or b"")
        if isinstance(compare.value, bytes):
            size += len(compare.value)
    for op in (*txn.success, *txn.failure):
        match op:
            case PutOp():
                size += 16 + len(op.key) + len(op.value)
            case RangeOp() | DeleteOp():
                size += 16 + len(op.key) + len(op.range_end or b"")
            case TxnOp():
                size += request_size(op)
    return size


def check_range(op: RangeOp) -> None:
    if not op.key and op.range_end is None:
        raise EmptyKeyError()
    if op.limit < 0:
        raise InvalidArgumentError(f"limit must not be negative, got {op.limit}")
    if op.revision < 0:
        raise InvalidArgumentError(f"revision must not be negative, got {op.revision}")


def check_put(op: PutOp) -> None:
    if not op.key:
        raise EmptyKeyError()
    if op.ignore_value and op.value:
        raise ValueProvidedError()
    if op.ignore_lease and op.lease:
        raise LeaseProvidedError()


def check_txn(txn: TxnOp, max_ops: int, max_bytes: int) -> None:
    """The checks that need no state; raise the first problem found."""
    size = request_size(txn)
    if size > max_bytes:
        raise RequestTooLargeError(size, max_bytes)
    _check_shape(txn, max_ops)
    _check_intervals(txn.success)
    _check_intervals(txn.failure)


def _check_shape(txn: TxnOp, max_ops: int) -> None:
    for count in (len(txn.compares), len(txn.success), len(txn.failure)):
        if count > max_ops:
            raise TooManyOpsError(count, max_ops)
    for compare in txn.compares:
        if not compare.key:
            raise EmptyKeyError("compare key")
        wants_bytes = compare.target is CompareTarget.VALUE
        if wants_bytes != isinstance(compare.value, bytes):
            kind = "bytes" if wants_bytes else "an int"
            raise InvalidArgumentError(
                f"compare on {compare.target.value} needs {kind}, got {compare.value!r}"
            )
    for op in (*txn.success, *txn.failure):
        match op:
            case RangeOp():
                check_range(op)
            case PutOp():
                check_put(op)
            case DeleteOp():
                if not op.key and op.range_end is None:
                    raise EmptyKeyError()
            case TxnOp():
                _check_shape(op, max_ops)


@dataclass(slots=True)
class _Intervals:
    puts: set[bytes] = field(default_factory=set)
    dels: list[tuple[bytes, bytes | None]] = field(default_factory=list)

    def deleted(self, key: bytes) -> bool:
        return any(_covers(start, end, key) for start, end in self.dels)


def _covers(start: bytes, end: bytes | None, key: bytes) -> bool:
    if end is None:
        return key == start
    if end == b"\0":
        return key >= start
    return start <= key < end


def _check_intervals(ops: list[Op]) -> _Intervals:
    """etcd's rule: within one branch no key is put twice or put and deleted; the two
    branches of a nested txn exclude each other, so they may touch the same key."""
    seen = _Intervals()
    seen.dels = [(op.key, op.range_end) for op in ops if isinstance(op, DeleteOp)]
    for op in ops:
        if not isinstance(op, TxnOp):
            continue
        then = _check_intervals(op.success)
        other = _check_intervals(op.failure)
        for key in then.puts:
            if key in seen.puts or seen.deleted(key):
                raise DuplicateKeyError(key)
            seen.puts.add(key)
        for key in other.puts:
            if (key in seen.puts and key not in then.puts) or seen.deleted(key):
                raise DuplicateKeyError(key)
            seen.puts.add(key)
        # Like etcd, a nested txn's deletes count against the puts of the nested
        # txns after it (not before it) and of this level.
        seen.dels.extend(then.dels)
        seen.dels.extend(other.dels)
    for op in ops:
        if isinstance(op, PutOp):
            if op.key in seen.puts or seen.deleted(op.key):
                raise DuplicateKeyError(op.key)
            seen.puts.add(op.key)
    return seen


def compare_holds(compare: Compare, index: KeyIndex) -> bool:
    kvs = index.latest_range(compare.key, compare.range_end)
    if not kvs:
        if compare.target is CompareTarget.VALUE:
            return False
        return _compare_one(compare, None)
    return all(_compare_one(compare, kv) for kv in kvs)


def _compare_one(compare: Compare, kv: KeyValue | None) -> bool:
    target = compare.target
    actual: int | bytes
    if target is CompareTarget.VALUE:
        actual = kv.value if kv is not None else b""
    elif kv is None:
        actual = 0
    elif target is CompareTarget.VERSION:
        actual = kv.version
    elif target is CompareTarget.CREATE:
        actual = kv.create_revision
    elif target is CompareTarget.MOD:
        actual = kv.mod_revision
    else:
        actual = kv.lease
    expected = compare.value
    result = compare.result
    if result is CompareResult.EQUAL:
        return actual == expected
    if result is CompareResult.NOT_EQUAL:
        return actual != expected
    if result is CompareResult.GREATER:
        return actual > expected  # type: ignore[operator]
    return actual < expected  # type: ignore[operator]


class Applier:
    """Applies one checked transaction at `revision`, collecting its events."""

    def __init__(self, index: KeyIndex, leases: LeaseTable, revision: int) -> None:
        self.index = index
        self.leases = leases
        self.revision = revision
        self.events: list[Event] = []

    def run(self, txn: TxnOp) -> TxnResult:
        """Pick branches, check them against the state, then apply (raises before any
        change when a check fails)."""
        plan = self._plan(txn)
        self._check_state(txn, plan)
        return _with_revision(self._apply(txn, plan), self.result_revision)

    def _plan(self, txn: TxnOp) -> list[bool]:
        """Each txn's branch, outer first then nested in op order, decided before any
        op runs (etcd evaluates every compare against the state before the txn)."""
        plan: list[bool] = []

        def walk(t: TxnOp) -> None:
            ok = all(compare_holds(c, self.index) for c in t.compares)
            plan.append(ok)
            for op in t.success if ok else t.failure:
                if isinstance(op, TxnOp):
                    walk(op)

        walk(txn)
        return plan

    def _check_state(self, txn: TxnOp, plan: list[bool]) -> None:
        steps = iter(plan)

        def walk(t: TxnOp) -> None:
            for op in t.success if next(steps) else t.failure:
                if isinstance(op, PutOp):
                    self.check_put(op)
                elif isinstance(op, RangeOp) and op.revision not in (0, self.revision - 1):
                    raise InvalidArgumentError(
                        f"a range inside a txn reads the current revision only, "
                        f"got revision {op.revision}"
                    )
                elif isinstance(op, TxnOp):
                    walk(op)

        walk(txn)

    def check_put(self, op: PutOp, *, in_txn: bool = True) -> None:
        """The state checks of a put. etcd checks the key first inside a txn and the
        lease first for a plain put; the same request gets the same error here."""
        if not in_txn and op.lease and op.lease not in self.leases:
            raise LeaseNotFoundError(op.lease)
        if (op.ignore_value or op.ignore_lease) and self.index.latest(op.key) is None:
            raise KeyNotFoundError(op.key)
        if op.lease and op.lease not in self.leases:
            raise LeaseNotFoundError(op.lease)

    def _apply(self, txn: TxnOp, plan: list[bool]) -> TxnResult:
        steps = iter(plan)

        def walk(t: TxnOp) -> TxnResult:
            ok = next(steps)
            responses: list[RangeResult | PutResult | DeleteResult | TxnResult] = []
            for op in t.success if ok else t.failure:
                match op:
                    case RangeOp():
                        responses.append(self.range(op))
                    case PutOp():
                        responses.append(self.put(op))
                    case DeleteOp():
                        responses.append(self.delete(op))
                    case TxnOp():
                        responses.append(walk(op))
            return TxnResult(ok, responses, 0)

        return walk(txn)

    @property
    def result_revision(self) -> int:
        return self.revision if self.events else self.revision - 1

    def range(self, op: RangeOp) -> RangeResult:
        kvs = self.index.latest_range(op.key, op.range_end)
        return shape_range(kvs, op, self.result_revision)

    def put(self, op: PutOp) -> PutResult:
        index = self.index
        key = op.key
        prev = index.latest(key)
        value = prev.value if op.ignore_value and prev is not None else op.value
        lease = prev.lease if op.ignore_lease and prev is not None else op.lease
        if prev is None:
            kv = KeyValue(key, value, self.revision, self.revision, 1, lease)
        else:
            kv = KeyValue(key, value, prev.create_revision, self.revision, prev.version + 1, lease)
            if prev.lease and prev.lease != lease:
                self.leases.detach(key, prev.lease)
        if lease:
            self.leases.attach(key, lease)
        index.write(key, kv)
        self.events.append(Event(EventType.PUT, kv, prev))
        return PutResult(self.revision, prev if op.prev_kv else None)

    def delete(self, op: DeleteOp) -> DeleteResult:
        kvs = self.index.latest_range(op.key, op.range_end)
        for prev in kvs:
            self.delete_one(prev)
        return DeleteResult(self.result_revision, len(kvs), kvs if op.prev_kv else [])

    def delete_one(self, prev: KeyValue) -> None:
        if prev.lease:
            self.leases.detach(prev.key, prev.lease)
        self.index.write(prev.key, None)
        tombstone = KeyValue(prev.key, b"", 0, self.revision, 0)
        self.events.append(Event(EventType.DELETE, tombstone, prev))


def _with_revision(result: TxnResult, revision: int) -> TxnResult:
    """Every response of a txn carries the revision the whole txn ends at."""
    responses: list[RangeResult | PutResult | DeleteResult | TxnResult] = []
    for response in result.responses:
        if isinstance(response, TxnResult):
            responses.append(_with_revision(response, revision))
        else:
            responses.append(msgspec.structs.replace(response, revision=revision))
    return TxnResult(result.succeeded, responses, revision)


def shape_range(kvs: list[KeyValue], op: RangeOp, revision: int) -> RangeResult:
    """Apply `limit`, `keys_only` and `count_only` to the keys found."""
    count = len(kvs)
    if op.count_only:
        return RangeResult([], revision, count, False)
    more = False
    if op.limit and count > op.limit:
        kvs = kvs[: op.limit]
        more = True
    if op.keys_only:
        kvs = [
            KeyValue(kv.key, b"", kv.create_revision, kv.mod_revision, kv.version, kv.lease)
            for kv in kvs
        ]
    return RangeResult(kvs, revision, count, more)
