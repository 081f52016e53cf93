"""Helpers of object metadata: uids and timestamps."""

import uuid

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api._meta import random_uid


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_random_uid_is_the_uuid4_of_its_bits(bits: int) -> None:
    assert random_uid(bits) == str(uuid.UUID(int=bits, version=4))
