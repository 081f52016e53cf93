"""`mypyc_attr`, the decorator that tells mypyc how to compile a class, usable
without mypy_extensions at run time.

mypyc reads the decorator from the source when it compiles; at run time it only
has to exist. mypy_extensions comes with mypy (a build and development
dependency), not with kubeactors: a pure-Python install gets a no-op instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["mypyc_attr"]

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr
else:
    try:
        from mypy_extensions import mypyc_attr
    except ImportError:  # pragma: no cover - only without mypy installed

        def mypyc_attr(*attrs, **kwattrs):
            return lambda cls: cls
