"""The node lifecycle controller's monitor tick.

Interpreted on purpose: the controller is compiled with mypyc, which drops a msgspec
Struct's class keywords (`frozen=True`) when it compiles the module that defines it.
"""

from __future__ import annotations

import msgspec

__all__ = ["_Monitor"]


class _Monitor(msgspec.Struct, frozen=True):
    """Time for a monitor pass over the nodes."""
