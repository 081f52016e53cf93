import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.sim import format_duration, parse_duration

_ORDER = ["d", "h", "m", "s", "ms"]
_LIMIT = {"d": 10**12, "h": 24, "m": 60, "s": 60, "ms": 1000}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("24h", 86_400.0),
        ("1h30m", 5_400.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("2d", 172_800.0),
        ("1h0.1s", 3_600.1),
        (0, 0.0),
    ],
)
def test_durations_read_as_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "5", "5x", "m", "-5m", "5 m", "5m3", True, 5, 1.5, None])
def test_anything_else_says_what_a_duration_looks_like(bad: object) -> None:
    with pytest.raises(ValueError, match='expected a duration like "5m"') as caught:
        parse_duration(bad)
    assert repr(bad) in str(caught.value)


@given(st.integers(min_value=0, max_value=10**12))
def test_a_formatted_duration_reads_back_to_the_same_milliseconds(millis: int) -> None:
    seconds = millis / 1000
    text = format_duration(seconds)
    assert parse_duration(text) == seconds


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=10_000), st.sampled_from(["ms", "s", "m", "h", "d"])
        ),
        min_size=1,
        max_size=4,
    )
)
def test_formatting_is_the_shortest_form_of_the_same_time(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{count}{unit}" for count, unit in parts)
    seconds = parse_duration(text)
    formatted = format_duration(seconds)
    assert parse_duration(formatted) == seconds
    assert format_duration(parse_duration(formatted)) == formatted
    # The normal form: each unit at most once, largest first, none overflowing.
    found = re.findall(r"(\d+)(ms|s|m|h|d)", formatted)
    assert "".join(f"{count}{unit}" for count, unit in found) == formatted
    order = [_ORDER.index(unit) for _, unit in found]
    assert order == sorted(set(order))
    assert all(int(count) < _LIMIT[unit] for count, unit in found)


def test_negative_seconds_cannot_be_formatted() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        format_duration(-1.0)
