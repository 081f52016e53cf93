"""Which of kubeactors' modules run compiled to C (mypyc), and which compiled ones are stale.

`make` compiles the modules on the hot path of every write, watch event and heartbeat
(listed in setup.py) next to their sources; Python then imports the compiled module
instead of the `.py`. A compiled module older than its source would silently run old
code, so the test suite and the benchmarks ask `stale_modules` first.
"""

from __future__ import annotations

import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

__all__ = ["compiled_modules", "stale_modules"]

_PACKAGE = Path(__file__).resolve().parent
# The runtime mypyc shares among the compiled modules: no source of its own.
_SHARED_LIBRARY = "_native__mypyc"


def _extensions(package: Path) -> list[tuple[str, Path, Path]]:
    """(module name, compiled file, source file) for each compiled module on disk."""
    found = []
    for compiled in package.rglob("*"):
        # The most specific suffix first: "x.cpython-311-x86_64-linux-gnu.so", not ".so".
        suffix = next((s for s in EXTENSION_SUFFIXES if compiled.name.endswith(s)), None)
        stem = compiled.name.removesuffix(suffix or "")
        if suffix is None or stem == _SHARED_LIBRARY:
            continue
        relative = compiled.with_name(stem).relative_to(package.parent)
        found.append((".".join(relative.parts), compiled, compiled.with_name(f"{stem}.py")))
    return sorted(found)


def compiled_modules() -> list[str]:
    """The names of the kubeactors modules that are imported, or would be, compiled."""
    names = []
    for name, _, _ in _extensions(_PACKAGE):
        # Not imported yet: Python prefers the extension next to a source. Imported: a
        # compiled module's `__file__` is not always its file's path, but its suffix is.
        module = sys.modules.get(name)
        if module is None or str(getattr(module, "__file__", "")).endswith(
            tuple(EXTENSION_SUFFIXES)
        ):
            names.append(name)
    return names


def stale_modules(package: Path = _PACKAGE) -> list[str]:
    """The compiled modules of `package` whose source changed after they were compiled."""
    # A compiled module's own file only forwards to the shared library, which holds
    # the code of all of them and is the one rebuilt when any source changes.
    shared = [
        path.stat().st_mtime
        for path in package.glob(f"{_SHARED_LIBRARY}.*")
        if path.suffix != ".py"
    ]
    return [
        name
        for name, compiled, source in _extensions(package)
        if source.exists() and source.stat().st_mtime > max([compiled.stat().st_mtime, *shared])
    ]
