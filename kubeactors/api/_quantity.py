"""Kubernetes resource quantities ("100m", "1.5Gi", "2e3"), parsed exactly with fractions."""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction

__all__ = [
    "QuantityError",
    "format_cpu",
    "format_memory",
    "parse_cpu",
    "parse_memory",
    "parse_quantity",
]

_MULTIPLIERS: dict[str, Fraction] = {
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}

_QUANTITY = re.compile(
    r"^(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE](?P<exponent>[+-]?[0-9]+))?$"
)

_QUANTITY_FORMAT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
"""The pattern Kubernetes names in its error message for a malformed quantity."""


class QuantityError(ValueError):
    """A string that is not a valid Kubernetes quantity."""

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(
            f"quantities must match the regular expression '{_QUANTITY_FORMAT}', got {value!r}"
        )


# Pods and nodes repeat a handful of quantity strings, so parsing is cached.
@functools.lru_cache(maxsize=4096)
def parse_quantity(text: str) -> Fraction:
    """The exact value of a quantity string; raises `QuantityError` if malformed."""
    match = _QUANTITY.match(text)
    if match is None:
        raise QuantityError(text)
    value = Fraction(match["number"])
    if match["exponent"] is not None:
        exponent = int(match["exponent"])
        if abs(exponent) > 100:
            raise QuantityError(text)
        value *= Fraction(10) ** exponent
    else:
        value *= _MULTIPLIERS[match["suffix"] or ""]
    return -value if match["sign"] == "-" else value


@functools.lru_cache(maxsize=4096)
def parse_cpu(text: str) -> int:
    """CPU in millicores, rounded up as Kubernetes' `MilliValue` does ("0.1" -> 100)."""
    return math.ceil(parse_quantity(text) * 1000)


@functools.lru_cache(maxsize=4096)
def parse_memory(text: str) -> int:
    """Memory (or any count) in whole units, rounded up ("1.5Gi" -> 1610612736)."""
    return math.ceil(parse_quantity(text))


def format_cpu(millicores: int) -> str:
    """The canonical string for a CPU amount: whole cores when exact, else millicores."""
    if millicores % 1000 == 0:
        return str(millicores // 1000)
    return f"{millicores}m"


def format_memory(count: int) -> str:
    """The canonical string for a byte count: the largest exact binary suffix."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_MULTIPLIERS[suffix])
        if count and count % unit == 0:
            return f"{count // unit}{suffix}"
    return str(count)
