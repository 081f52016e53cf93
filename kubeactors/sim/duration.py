"""Durations as scenarios write them: "30s", "5m", "24h", "1h30m", "500ms", "2d"."""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["Duration", "format_duration", "parse_duration"]

_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
_EXPECTED = 'expected a duration like "5m"'


class Duration(float):
    """Seconds, written in a scenario as a duration string; a float everywhere else."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Duration({format_duration(self)!r})"


def parse_duration(text: object) -> Duration:
    """The seconds a duration names: numbers with units ms, s, m, h, d, largest first or not.

    "1h30m" is 5400 s and "1.5s" is 1.5 s. A bare 0 is accepted (zero needs no unit);
    anything else is a `ValueError` saying what was expected.
    """
    if isinstance(text, bool):
        raise ValueError(f"{_EXPECTED}, got {text!r}")
    if isinstance(text, int | float):
        if text == 0:
            return Duration(0.0)
        raise ValueError(f"{_EXPECTED} (a number with a unit: ms, s, m, h, d), got {text!r}")
    if not isinstance(text, str) or not _WHOLE.fullmatch(text.strip()):
        raise ValueError(f"{_EXPECTED} (units ms, s, m, h, d), got {text!r}")
    # Summed exactly in milliseconds, then divided once: "1h0.1s" is exactly 3600.1.
    total = sum(
        (Decimal(number) * _UNIT_MS[unit] for number, unit in _PART.findall(text.strip())),
        Decimal(0),
    )
    return Duration(float(total / 1000))


def format_duration(seconds: float) -> str:
    """The shortest duration string for `seconds`, to the millisecond: 5400 -> "1h30m"."""
    if seconds < 0:
        raise ValueError(f"a duration must not be negative, got {seconds!r}")
    remaining = round(Decimal(repr(float(seconds))) * 1000)
    if remaining == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s", "ms"):
        size = _UNIT_MS[unit]
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
