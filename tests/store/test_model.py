"""Generated operation sequences run on our store and on etcd, compared answer by answer.

Each sequence runs on a fresh view of each backend with two watchers: one open
from the start, and one opened at the end from the first revision (which catches up
from history, or is cancelled if the sequence compacted). The results, errors and
events seen must be identical.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.store import (
    Compare,
    CompareResult,
    CompareTarget,
    DeleteOp,
    Op,
    PutOp,
    RangeOp,
    StoreError,
    TxnOp,
    WatchCancelledError,
)

from .backends import View, open_view

KEYS = [b"a", b"ab", b"b", b"c"]
VALUES = [b"", b"x", b"y"]

keys = st.sampled_from(KEYS)
ends = st.sampled_from([None, None, b"b", b"c", b"\0"])
values = st.sampled_from(VALUES)


class Grant(msgspec.Struct, frozen=True):
    id: int


class Revoke(msgspec.Struct, frozen=True):
    id: int


class CompactTo(msgspec.Struct, frozen=True):
    revision: int


class HistoryRange(msgspec.Struct, frozen=True):
    op: RangeOp


puts = st.builds(
    PutOp,
    keys,
    values,
    lease=st.sampled_from([0, 0, 1, 2]),
    prev_kv=st.booleans(),
    ignore_value=st.sampled_from([False, False, True]),
    ignore_lease=st.sampled_from([False, False, True]),
)
deletes = st.builds(DeleteOp, keys, ends, prev_kv=st.booleans())
ranges = st.builds(
    RangeOp,
    keys,
    ends,
    limit=st.integers(0, 3),
    keys_only=st.booleans(),
    count_only=st.sampled_from([False, False, True]),
)


def compares() -> st.SearchStrategy[Compare]:
    int_compare = st.builds(
        Compare,
        keys,
        st.sampled_from(
            [CompareTarget.VERSION, CompareTarget.CREATE, CompareTarget.MOD, CompareTarget.LEASE]
        ),
        st.sampled_from(list(CompareResult)),
        st.integers(0, 6),
        ends,
    )
    value_compare = st.builds(
        Compare,
        keys,
        st.just(CompareTarget.VALUE),
        st.sampled_from(list(CompareResult)),
        values,
        ends,
    )
    return int_compare | value_compare


simple_ops: st.SearchStrategy[Op] = puts | deletes | ranges
nested = st.builds(
    TxnOp,
    st.lists(compares(), max_size=2),
    st.lists(simple_ops, max_size=2),
    st.lists(simple_ops, max_size=2),
)
txns = st.builds(
    TxnOp,
    st.lists(compares(), max_size=2),
    st.lists(simple_ops | nested, max_size=3),
    st.lists(simple_ops, max_size=2),
)
steps = st.lists(
    st.one_of(
        puts,
        puts,
        deletes,
        ranges,
        txns,
        txns,
        st.builds(HistoryRange, st.builds(RangeOp, keys, ends, revision=st.integers(1, 12))),
        st.builds(CompactTo, st.integers(1, 10)),
        st.builds(Grant, st.integers(1, 2)),
        st.builds(Revoke, st.integers(1, 3)),
    ),
    min_size=1,
    max_size=25,
)


async def _step(view: View, step: object) -> object:
    match step:
        case PutOp():
            return await view.put(
                step.key,
                step.value,
                lease=step.lease,
                prev_kv=step.prev_kv,
                ignore_value=step.ignore_value,
                ignore_lease=step.ignore_lease,
            )
        case DeleteOp():
            return await view.delete(step.key, step.range_end, prev_kv=step.prev_kv)
        case RangeOp():
            return await view.range(
                step.key,
                step.range_end,
                limit=step.limit,
                keys_only=step.keys_only,
                count_only=step.count_only,
            )
        case HistoryRange(op=op):
            return await view.range(op.key, op.range_end, revision=op.revision)
        case TxnOp():
            return await view.txn(step.compares, step.success, step.failure)
        case CompactTo(revision=revision):
            await view.compact(revision)
            return None
        case Grant(id=lease_id):
            return await view.lease_grant(100, lease_id)
        case Revoke(id=lease_id):
            return await view.lease_revoke(lease_id)
    raise AssertionError(f"unknown step {step!r}")


async def _run(kind: str, url: str | None, sequence: list[object]) -> list[Any]:
    outcomes: list[Any] = []
    async with open_view(kind, url) as view:
        live = await view.watch(b"", b"\0", start_revision=1, prev_kv=True)
        for step in sequence:
            try:
                outcomes.append(("ok", await _step(view, step)))
            except StoreError as error:
                outcomes.append(("error", type(error).__name__))
        await view.put(b"zz")
        outcomes.append(("live", await live.until(b"zz")))
        late = await view.watch(b"", b"\0", start_revision=1, prev_kv=True)
        await view.put(b"zzz")
        try:
            outcomes.append(("late", await late.until(b"zzz")))
        except WatchCancelledError as error:
            outcomes.append(("late cancelled", view.rev_out(error.compact_revision)))
    return outcomes


@settings(max_examples=40)
@given(sequence=steps)
def test_same_answers_as_etcd(etcd_url: str, sequence: list[object]) -> None:
    ours = asyncio.run(_run("kubeactors", None, sequence))
    theirs = asyncio.run(_run("etcd", etcd_url, sequence))
    for step, mine, reference in zip([*sequence, "live", "late"], ours, theirs, strict=False):
        assert mine == reference, f"after {step!r}"
    assert len(ours) == len(theirs)


@settings(max_examples=40)
@given(sequence=steps)
def test_memory_store_same_answers_as_sqlite(sequence: list[object]) -> None:
    """The store without a database answers as the one on SQLite, reads of the past
    and late watches included (the SQLite one's small window sends them to SQLite)."""
    ours = asyncio.run(_run("memory", None, sequence))
    reference = asyncio.run(_run("kubeactors", None, sequence))
    for step, mine, theirs in zip([*sequence, "live", "late"], ours, reference, strict=True):
        assert mine == theirs, f"after {step!r}"


@pytest.mark.parametrize("kind", ["kubeactors", "memory"])
def test_model_runs_without_etcd(kind: str) -> None:
    """A fixed sequence on our store alone, so the runner is exercised everywhere."""
    sequence: list[object] = [PutOp(b"a", b"x"), Grant(1), PutOp(b"b", b"y", lease=1), Revoke(1)]
    outcomes = asyncio.run(_run(kind, None, sequence))
    assert [kind for kind, _ in outcomes] == ["ok", "ok", "ok", "ok", "live", "late"]
