"""Helpers of object metadata: uids and timestamps."""

import random
import uuid

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api._meta import (
    NAME_ALPHABET,
    NAME_SUFFIXES,
    name_suffix,
    random_uid,
    random_uids,
)


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_random_uid_is_the_uuid4_of_its_bits(bits: int) -> None:
    assert random_uid(bits) == str(uuid.UUID(int=bits, version=4))


@given(st.integers(min_value=0), st.integers(min_value=1, max_value=70))
def test_a_batch_of_uids_is_the_uids_of_as_many_draws(seed: int, count: int) -> None:
    one_by_one = random.Random(seed)
    expected = [random_uid(one_by_one.getrandbits(128)) for _ in range(count)]
    batch = random_uids(random.Random(seed).getrandbits(128 * count), count)
    assert [batch.pop() for _ in range(count)] == expected


@given(st.integers(min_value=0, max_value=NAME_SUFFIXES - 1))
def test_each_draw_names_its_own_suffix(draw: int) -> None:
    suffix = name_suffix(draw)
    assert len(suffix) == 5
    assert set(suffix) <= set(NAME_ALPHABET)
    # The letters are the draw's base-27 digits, least significant first: one to one.
    assert sum(NAME_ALPHABET.index(c) * 27**i for i, c in enumerate(suffix)) == draw
