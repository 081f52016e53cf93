from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    QuantityError,
    format_cpu,
    format_memory,
    parse_cpu,
    parse_memory,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "millicores"),
    [("100m", 100), ("1", 1000), ("0.5", 500), ("2.25", 2250), ("1e3", 1_000_000), ("1n", 1)],
)
def test_cpu_in_millicores(text: str, millicores: int) -> None:
    assert parse_cpu(text) == millicores


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("128Mi", 128 * 2**20),
        ("1.5Gi", 3 * 2**29),
        ("1G", 10**9),
        ("1k", 1000),
        ("12e2", 1200),
        (".5Ki", 512),
    ],
)
def test_memory_in_bytes(text: str, count: int) -> None:
    assert parse_memory(text) == count


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "10 Mi", "Mi", "1KB", "--1", "1e"])
def test_malformed_quantities_are_rejected_by_value(text: str) -> None:
    with pytest.raises(QuantityError, match="quantities must match"):
        parse_quantity(text)


@given(st.integers(min_value=0, max_value=10**12))
def test_cpu_format_round_trips(millicores: int) -> None:
    assert parse_cpu(format_cpu(millicores)) == millicores


@given(st.integers(min_value=0, max_value=2**62))
def test_memory_format_round_trips(count: int) -> None:
    assert parse_memory(format_memory(count)) == count


@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=999),
    st.sampled_from(["Ki", "Mi", "Gi", "Ti", "k", "M", "G", ""]),
)
def test_decimal_fractions_are_exact(whole: int, thousandths: int, suffix: str) -> None:
    text = f"{whole}.{thousandths:03d}{suffix}"
    multiplier = parse_quantity(f"1{suffix}")
    assert parse_quantity(text) == (whole + Fraction(thousandths, 1000)) * multiplier
    assert isinstance(parse_quantity(text), Fraction)
