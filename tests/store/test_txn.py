"""Conformance of Txn: compares, branches, nesting, one revision, and its limits."""

from __future__ import annotations

import pytest

from kubeactors.store import (
    Compare,
    CompareResult,
    CompareTarget,
    DeleteOp,
    DeleteResult,
    DuplicateKeyError,
    KeyValue,
    LeaseNotFoundError,
    PutOp,
    PutResult,
    RangeOp,
    RangeResult,
    TooManyOpsError,
    TxnOp,
    TxnResult,
)

from .conftest import ViewFactory

EQ, GT, LT, NE = (
    CompareResult.EQUAL,
    CompareResult.GREATER,
    CompareResult.LESS,
    CompareResult.NOT_EQUAL,
)
VERSION, CREATE, MOD, VALUE, LEASE = (
    CompareTarget.VERSION,
    CompareTarget.CREATE,
    CompareTarget.MOD,
    CompareTarget.VALUE,
    CompareTarget.LEASE,
)


async def test_a_txn_is_one_revision(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.put(b"old", b"x")
        result = await view.txn(
            [Compare(b"missing", VERSION, EQ, 0)],
            [
                PutOp(b"a", b"1"),
                PutOp(b"b", b"2", prev_kv=True),
                DeleteOp(b"old", prev_kv=True),
                RangeOp(b"a", b"\0"),
            ],
        )
        assert result.succeeded
        assert result.revision == 2
        assert result.responses == [
            PutResult(2),
            PutResult(2),
            DeleteResult(2, 1, [KeyValue(b"old", b"x", 1, 1, 1)]),
            RangeResult([KeyValue(b"a", b"1", 2, 2, 1), KeyValue(b"b", b"2", 2, 2, 1)], 2, 2),
        ]


@pytest.mark.parametrize(
    ("compare", "holds"),
    [
        (Compare(b"k", VERSION, EQ, 2), True),
        (Compare(b"k", VERSION, GT, 1), True),
        (Compare(b"k", VERSION, LT, 2), False),
        (Compare(b"k", CREATE, EQ, 1), True),
        (Compare(b"k", MOD, EQ, 2), True),
        (Compare(b"k", MOD, NE, 2), False),
        (Compare(b"k", VALUE, EQ, b"v2"), True),
        (Compare(b"k", VALUE, GT, b"v1"), True),
        (Compare(b"k", VALUE, LT, b"v1"), False),
        (Compare(b"k", LEASE, EQ, 0), True),
        (Compare(b"missing", VERSION, EQ, 0), True),
        (Compare(b"missing", CREATE, EQ, 0), True),
        (Compare(b"missing", MOD, LT, 1), True),
        (Compare(b"missing", VALUE, EQ, b""), False),
        (Compare(b"missing", VALUE, NE, b"x"), False),
        (Compare(b"k", VERSION, GT, 0, range_end=b"\0"), True),
        (Compare(b"j", MOD, EQ, 2, range_end=b"m"), False),
        (Compare(b"j", MOD, GT, 0, range_end=b"l"), True),
        (Compare(b"x", VERSION, EQ, 0, range_end=b"y"), True),
    ],
)
async def test_compares(open_backend: ViewFactory, compare: Compare, holds: bool) -> None:
    async with open_backend() as view:
        await view.put(b"k", b"v1")
        await view.put(b"k", b"v2")
        await view.put(b"l", b"w")
        result = await view.txn([compare], [RangeOp(b"k")], [])
        assert result.succeeded is holds
        assert result.revision == 3


async def test_failure_branch_and_nested_txn(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.put(b"k", b"1")
        inner = TxnOp(
            [Compare(b"k", VALUE, EQ, b"1")], [PutOp(b"in", b"yes")], [PutOp(b"in", b"no")]
        )
        result = await view.txn(
            [Compare(b"k", VERSION, EQ, 5)], [PutOp(b"never")], [inner, PutOp(b"out")]
        )
        assert not result.succeeded
        assert result.revision == 2
        assert result.responses == [TxnResult(True, [PutResult(2)], 2), PutResult(2)]
        assert (await view.range(b"in")).kvs == [KeyValue(b"in", b"yes", 2, 2, 1)]
        assert (await view.range(b"never")).kvs == []


async def test_read_only_txn_takes_no_revision(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.put(b"k", b"1")
        result = await view.txn([], [RangeOp(b"k"), DeleteOp(b"missing")], [])
        assert result.revision == 1
        assert await view.revision() == 1


@pytest.mark.parametrize(
    "ops",
    [
        [PutOp(b"a"), PutOp(b"a")],
        [DeleteOp(b"a", b"c"), PutOp(b"b")],
        [PutOp(b"b"), TxnOp([], [PutOp(b"b")], [])],
        [DeleteOp(b"a", b"\0"), TxnOp([], [], [PutOp(b"z")])],
        [TxnOp([], [], [DeleteOp(b"a")]), TxnOp([], [], [PutOp(b"a")])],
    ],
)
async def test_duplicate_keys_are_refused(open_backend: ViewFactory, ops: list[PutOp]) -> None:
    async with open_backend() as view:
        with pytest.raises(DuplicateKeyError):
            await view.txn([], list(ops), [])
        assert await view.revision() == 0


async def test_exclusive_branches_may_share_keys(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        inner = TxnOp([], [PutOp(b"a", b"then")], [PutOp(b"a", b"else")])
        result = await view.txn([], [inner, DeleteOp(b"b")], [])
        assert result.succeeded
        assert (await view.range(b"a")).kvs[0].value == b"then"


async def test_op_count_limit(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        ops = [PutOp(b"k%d" % i) for i in range(129)]
        with pytest.raises(TooManyOpsError):
            await view.txn([], list(ops), [])
        result = await view.txn([], list(ops[:128]), [])
        assert result.revision == 1
        assert (await view.range(b"k", b"l", count_only=True)).count == 128


async def test_a_failing_op_leaves_no_change(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        with pytest.raises(LeaseNotFoundError):
            await view.txn([], [PutOp(b"a", b"1"), PutOp(b"b", b"2", lease=77)], [])
        assert (await view.range(b"a", b"\0")).kvs == []
        assert await view.revision() == 0
