"""`emit`: a table for people on stderr, one JSON object per row on stdout."""

from __future__ import annotations

import json
import platform
import sys

import pytest

from benchmarks._report import emit
from kubeactors._native import compiled_modules


def test_each_row_is_one_json_line_naming_the_interpreter_and_the_build(
    capsys: pytest.CaptureFixture[str],
) -> None:
    emit("t", [{"name": "a", "pods_per_s": 1.5}, {"name": "b", "p99_ms": None}])
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    python = f"{platform.python_version()} {sys.executable}"
    build = {"python": python, "compiled_modules": len(compiled_modules())}
    assert rows == [
        {"name": "a", "pods_per_s": 1.5, **build},
        {"name": "b", "p99_ms": None, **build},
    ]
    assert "pods_per_s" in err


def test_a_row_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="without a name"):
        emit("t", [{"pods_per_s": 1.0}])
