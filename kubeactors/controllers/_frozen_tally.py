"""`FrozenTally`: a copy of an owner's tally that a claim reads while it writes.

Interpreted on purpose: the ReplicaSet controller's module is compiled with mypyc,
which drops a msgspec Struct's class keywords when it compiles the module that
defines it (`gc=False` here).
"""

from __future__ import annotations

from ._owned import Tally

__all__ = ["FrozenTally"]


class FrozenTally(Tally):
    """A copy of a tally's pods and counts, for a claim that awaits writes meanwhile
    (another sync may bring the live tally up to date before this one reads it)."""

    @classmethod
    def of(cls, tally: Tally) -> FrozenTally:
        return cls(
            pods=dict(tally.pods),
            basis=tally.basis,
            active=tally.active,
            ready=tally.ready,
            labeled=tally.labeled,
            releasable=tally.releasable,
        )
