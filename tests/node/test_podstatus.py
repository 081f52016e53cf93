"""Pod status helpers: timestamps as Kubernetes writes them."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import format_time
from kubeactors.node._podstatus import api_time, stamp

_MOMENTS = st.floats(min_value=0, max_value=4e9, allow_nan=False)


@given(st.lists(_MOMENTS, min_size=1, max_size=20))
def test_cached_timestamps_match_formatting_each_time(moments: list[float]) -> None:
    # In any order (the cache keeps one second): the same text as formatting anew.
    for moment in moments:
        expected = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert api_time(moment) == expected
        wall = datetime.fromtimestamp(moment, UTC)
        assert stamp(wall) == format_time(wall)
        assert stamp(wall.replace(microsecond=999_999)) == format_time(wall)
