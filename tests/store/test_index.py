"""The in-memory key index against a plain dict: committed ranges stay sorted and
exact, and the latest version of each key is the committed one overlaid with the
uncommitted layers, however additions, deletions, re-additions, commits, discarded
layers and reads interleave."""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.store import _index
from kubeactors.store._index import KeyIndex
from kubeactors.store._types import KeyValue

# Few distinct keys so that deletes and re-additions of the same key are common, and
# reads one step in thirteen so that several changes are pending at each.
_keys = st.sampled_from([bytes([a, b]) for a in b"abc" for b in b"ab"])
_step = st.one_of(
    *[st.tuples(st.just(action), _keys) for action in ("put", "delete", "seal", "commit") * 3],
    st.tuples(st.just("read"), _keys),
    st.tuples(st.just("discard"), _keys),
)


def _kv(key: bytes, revision: int) -> KeyValue:
    return KeyValue(key, b"v", revision, revision, 1)


@settings(max_examples=400)  # cheap examples; the sequences that matter are rare
@given(
    st.sampled_from([0, 2, 32]),
    st.lists(st.integers(0, 40), max_size=3),
    st.lists(_step, min_size=20, max_size=300),
)
def test_committed_ranges_match_a_sorted_dict(
    one_by_one: int, loaded: list[int], steps: list[tuple[str, bytes]]
) -> None:
    # Each way of bringing the sorted keys up to date: merging, one by one, or both.
    with mock.patch.object(_index, "_ONE_BY_ONE", one_by_one):
        _check_against_a_dict(loaded, steps)


def _check_against_a_dict(loaded: list[int], steps: list[tuple[str, bytes]]) -> None:
    index = KeyIndex()
    model: dict[bytes, KeyValue] = {}
    layers: list[dict[bytes, KeyValue | None]] = [{}]
    initial = [_kv(bytes([97 + n % 3, 97 + n // 3 % 2]), 1) for n in loaded]
    index.load(initial)
    model.update((kv.key, kv) for kv in initial)
    revision = 1
    for action, key in steps:
        if action == "put":
            revision += 1
            kv = _kv(key, revision)
            index.write(key, kv)
            layers[-1][key] = kv
        elif action == "delete":
            if index.latest(key) is not None:
                index.write(key, None)
                layers[-1][key] = None
        elif action == "seal":
            if len(layers) == 1:  # as the store: one layer committing, one filling
                index.seal()
                layers.append({})
        elif action == "commit":
            if len(layers) == 2:
                index.commit_oldest()
                for written, committed in layers.pop(0).items():
                    if committed is None:
                        model.pop(written, None)
                    else:
                        model[written] = committed
        elif action == "discard":
            index.discard_uncommitted()
            layers = [{}]
        else:
            expected = [model[k] for k in sorted(model) if k >= key]
            assert index.committed_range(key, b"\0") == expected
            assert index.committed_count(key, b"\0") == len(expected)
            assert index.committed_range(b"a", key) == [model[k] for k in sorted(model) if k < key]
        latest = dict(model)
        for layer in layers:
            for written, value in layer.items():
                if value is None:
                    latest.pop(written, None)
                else:
                    latest[written] = value
        assert index.latest(key) == latest.get(key)
        assert index.latest_range(b"\0", b"\0") == [latest[k] for k in sorted(latest)]
    assert index.committed_range(b"\0", b"\0") == [model[k] for k in sorted(model)]
    assert len(index) == len(model)
