"""`UserInfo`: an authenticated identity, as every request carries it.

Interpreted on purpose: the authenticator's module is compiled with mypyc, which
drops a msgspec Struct's class keywords (`frozen=True`) when it compiles the module
that defines it, and a request's user must stay immutable and hashable.
"""

from __future__ import annotations

import msgspec

__all__ = ["NODES_GROUP", "UserInfo"]

NODES_GROUP = "system:nodes"


class UserInfo(msgspec.Struct, frozen=True):
    """An authenticated identity: a user name, a uid and the groups it belongs to."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()

    @property
    def node_name(self) -> str | None:
        """For a kubelet (`system:node:<name>` in `system:nodes`), its node's name."""
        if NODES_GROUP in self.groups and self.name.startswith("system:node:"):
            return self.name.removeprefix("system:node:")
        return None
