"""Shared output conventions: a rich table for people, then one JSON object per scenario."""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping, Sequence

import msgspec
from rich.console import Console
from rich.table import Table

from kubeactors._native import compiled_modules, stale_modules

__all__ = ["emit"]


def emit(title: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Print `rows` as a table on stderr, then each as one JSON line on stdout, with the
    interpreter's version and path under `python` and how many of kubeactors' modules
    ran compiled under `compiled_modules`.

    Every row needs a `name`; the other keys carry their unit in their name
    (`pods_per_s`, `p99_ms`, `ratio_vs_anyio`).
    """
    table = Table(title=title)
    columns: list[str] = []
    for row in rows:
        if "name" not in row:
            raise ValueError(f"benchmark row without a name: {row!r}")
        columns.extend(key for key in row if key not in columns)
    for column in columns:
        table.add_column(column, justify="left" if column == "name" else "right")
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    # Wide enough for many columns when stderr is not a terminal (CI logs, pipes).
    Console(stderr=True, width=240).print(table)
    # Which interpreter ran it travels with each figure: CPython builds differ in speed.
    python = f"{platform.python_version()} {sys.executable}"
    compiled = len(compiled_modules())
    stale = stale_modules()
    if stale:
        sys.stderr.write(f"warning: compiled from older sources (run `make native`): {stale}\n")
    for row in rows:
        line = {**row, "python": python, "compiled_modules": compiled}
        sys.stdout.write(msgspec.json.encode(line).decode() + "\n")
    sys.stdout.flush()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)
