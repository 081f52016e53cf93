"""The compiled modules: which run compiled, and the check that refuses stale ones."""

from __future__ import annotations

import ast
import importlib
import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import msgspec

from kubeactors._native import compiled_modules, stale_modules

_SUFFIX = EXTENSION_SUFFIXES[0]
_ROOT = Path(__file__).parents[1]


def _touch(path: Path, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    os.utime(path, (mtime, mtime))


def test_a_source_newer_than_its_compiled_module_and_the_shared_library_is_stale(
    tmp_path: Path,
) -> None:
    package = tmp_path / "pkg"
    _touch(package / "fresh.py", 100)
    _touch(package / f"fresh{_SUFFIX}", 200)
    _touch(package / "sub" / "edited.py", 300)
    _touch(package / "sub" / f"edited{_SUFFIX}", 200)
    _touch(package / "interpreted.py", 500)
    _touch(package / f"_native__mypyc{_SUFFIX}", 250)
    assert stale_modules(package) == ["pkg.sub.edited"]
    # The shared library holds the code: rebuilt after the edit, nothing is stale.
    _touch(package / f"_native__mypyc{_SUFFIX}", 400)
    assert stale_modules(package) == []


def _compiled_paths() -> list[str]:
    tree = ast.parse((_ROOT / "setup.py").read_text())
    listed = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "COMPILED"
    )
    paths: list[str] = ast.literal_eval(listed)
    return paths


def test_the_modules_setup_py_lists_run_compiled_when_built_so() -> None:
    paths = _compiled_paths()
    names = sorted(path.removesuffix(".py").replace("/", ".") for path in paths)
    assert names
    assert stale_modules() == []
    # `make` builds them (KUBEACTORS_COMPILE=1, its default) before it tests.
    if os.environ.get("KUBEACTORS_COMPILE") == "1":
        assert compiled_modules() == names
    else:
        assert set(compiled_modules()) <= set(names)


def test_every_public_generic_class_subscripts_at_run_time() -> None:
    """A generic class defined in a compiled module would not (`Delta[Pod]`)."""
    import importlib
    import inspect
    import typing

    from kubeactors.api import Pod

    generic = []
    for package in ("kubeactors", "kubeactors.api", "kubeactors.client", "kubeactors.store"):
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) and typing.Generic in value.__mro__:
                parameters = getattr(value, "__parameters__", ())
                if parameters:
                    generic.append(name)
                    subscript: Any = value
                    assert subscript[(Pod,) * len(parameters)] is not None, name
    assert {"Delta", "Informer", "ApiWatch"} <= set(generic)


def _awaits_in_a_finally_block(source: str) -> list[int]:
    """The lines of the try statements whose finally block awaits."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Try | ast.TryStar) and any(
            isinstance(inner, ast.Await | ast.AsyncWith | ast.AsyncFor)
            for statement in node.finalbody
            for inner in ast.walk(statement)
        ):
            found.append(node.lineno)
    return found


def test_no_compiled_module_awaits_in_a_finally_block() -> None:
    """mypyc re-raises what sys.exc_info() holds after such a finally block, and a
    compiled coroutine resumed by a throw can leave an exception it swallowed there:
    a cell's task group swallowed the cancellation of a one-for-all restart, and the
    finally block after it raised it again (the whole group restarted)."""
    assert _awaits_in_a_finally_block(
        "async def f():\n    try:\n        pass\n    finally:\n        await g()\n"
    ) == [2]
    offending = {
        path: lines
        for path in _compiled_paths()
        if (lines := _awaits_in_a_finally_block((_ROOT / path).read_text()))
    }
    assert offending == {}


def test_no_compiled_module_defines_a_msgspec_struct() -> None:
    """mypyc drops a Struct's class keywords when it compiles the module that defines
    it: a `frozen=True` message came out mutable and unhashable. Structs live in
    interpreted modules; compiled ones import them."""
    offending = []
    for path in _compiled_paths():
        name = path.removesuffix(".py").replace("/", ".")
        module = importlib.import_module(name)
        offending += [
            f"{name}.{attribute}"
            for attribute, value in vars(module).items()
            if isinstance(value, type)
            and issubclass(value, msgspec.Struct)
            and value.__module__ == name
        ]
    assert offending == []
