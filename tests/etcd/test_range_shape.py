"""The range options etcd applies above its MVCC layer (sort, revision filters, limit),
held to a plain reference over generated key sets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.etcd import Identity, KeyValueService, Limits
from kubeactors.etcd._kv import _range_op
from kubeactors.etcd._proto import rpc_pb2
from kubeactors.store import KeyValue, RangeResult

pb = rpc_pb2
TARGETS: dict[int, Callable[[KeyValue], Any]] = {
    pb.RangeRequest.KEY: lambda kv: kv.key,
    pb.RangeRequest.VERSION: lambda kv: kv.version,
    pb.RangeRequest.CREATE: lambda kv: kv.create_revision,
    pb.RangeRequest.MOD: lambda kv: kv.mod_revision,
    pb.RangeRequest.VALUE: lambda kv: kv.value,
}


@st.composite
def key_values(draw: st.DrawFn) -> list[KeyValue]:
    keys = draw(st.lists(st.binary(min_size=1, max_size=3), unique=True, max_size=12))
    kvs = []
    for key in sorted(keys):
        create = draw(st.integers(1, 50))
        kvs.append(
            KeyValue(
                key,
                draw(st.binary(max_size=2)),
                create,
                draw(st.integers(create, 60)),
                draw(st.integers(1, 5)),
            )
        )
    return kvs


def bound(top: int) -> st.SearchStrategy[int]:
    """A revision filter: mostly unset, so that most ranges keep several keys."""
    return st.one_of(st.just(0), st.just(0), st.integers(1, top))


requests = st.builds(
    pb.RangeRequest,
    key=st.just(b"\0"),
    range_end=st.just(b"\0"),
    limit=st.integers(0, 14),
    sort_order=st.sampled_from(
        [pb.RangeRequest.NONE, pb.RangeRequest.ASCEND, pb.RangeRequest.DESCEND]
    ),
    sort_target=st.sampled_from(list(TARGETS)),
    min_mod_revision=bound(60),
    max_mod_revision=bound(60),
    min_create_revision=bound(50),
    max_create_revision=bound(50),
)


def passes(kv: KeyValue, request: Any) -> bool:
    return (
        (not request.min_mod_revision or kv.mod_revision >= request.min_mod_revision)
        and (not request.max_mod_revision or kv.mod_revision <= request.max_mod_revision)
        and (not request.min_create_revision or kv.create_revision >= request.min_create_revision)
        and (not request.max_create_revision or kv.create_revision <= request.max_create_revision)
    )


@given(key_values(), requests)
def test_sorted_filtered_and_limited_as_etcd_does(kvs: list[KeyValue], request: Any) -> None:
    service = KeyValueService(None, Identity(), Limits())  # type: ignore[arg-type]
    # The store applies the limit it is given, as _range_op asks it to.
    store_limit = _range_op(request).limit
    stored = kvs[:store_limit] if store_limit else kvs
    result = RangeResult(stored, 99, len(kvs), len(stored) < len(kvs))
    response = service._range_response(request, result)
    kept = [kv for kv in kvs if passes(kv, request)]
    order = request.sort_order
    if order == pb.RangeRequest.NONE and request.sort_target != pb.RangeRequest.KEY:
        order = pb.RangeRequest.ASCEND
    target = TARGETS[request.sort_target]
    answered = [
        KeyValue(kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version)
        for kv in response.kvs
    ]
    expected_length = min(len(kept), request.limit) if request.limit else len(kept)
    assert len(answered) == expected_length
    assert response.more == (len(answered) < len(kept))
    assert response.count == len(kvs)  # the count ignores filters and the limit
    assert all(kv in kept for kv in answered)
    values = [target(kv) for kv in answered]
    if order == pb.RangeRequest.DESCEND:
        assert values == sorted(values, reverse=True)
        # the limit keeps the top of the order: nothing left out ranks above the last kept
        if answered:
            assert all(target(kv) <= values[-1] for kv in kept if kv not in answered)
    else:
        assert values == sorted(values)
        if answered:
            assert all(target(kv) >= values[-1] for kv in kept if kv not in answered)
    if request.sort_target == pb.RangeRequest.KEY and order != pb.RangeRequest.DESCEND:
        assert answered == kept[: len(answered)]
    assert response.header.revision == 99
