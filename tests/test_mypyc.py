"""`kubeactors._mypyc`: mypyc's class decorator, a no-op without mypy_extensions."""

from __future__ import annotations

import importlib
import sys

import pytest

import kubeactors._mypyc


def test_mypyc_attr_leaves_a_class_as_it_is_without_mypy_extensions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "mypy_extensions", None)  # as if not installed
    try:
        fallback = importlib.reload(kubeactors._mypyc)

        class Plain:
            pass

        assert fallback.mypyc_attr(allow_interpreted_subclasses=True)(Plain) is Plain
        assert "mypy_extensions" not in getattr(fallback.mypyc_attr, "__module__", "")
    finally:
        monkeypatch.undo()
        importlib.reload(kubeactors._mypyc)
