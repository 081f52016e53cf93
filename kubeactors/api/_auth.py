"""Authentication: who is asking. Bearer tokens from a kube-apiserver `--token-auth-file`
CSV, and named identities for in-process components.

Compiled with mypyc (setup.py); `UserInfo`, a msgspec Struct, lives in `_user.py`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ._user import NODES_GROUP as NODES_GROUP
from ._user import UserInfo

__all__ = [
    "ANONYMOUS",
    "SYSTEM_MASTERS",
    "TokenAuthenticator",
    "UserInfo",
    "component_user",
    "node_user",
]

SYSTEM_MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
NODE_SIMULATOR = "system:kubeactors:node-simulator"
"""The identity of the pod dispatcher, which watches pods for every simulated kubelet."""


ANONYMOUS = UserInfo("system:anonymous", groups=(UNAUTHENTICATED,))


def component_user(name: str, *groups: str) -> UserInfo:
    """An in-process component's identity (`system:kube-scheduler`, say)."""
    return UserInfo(name, uid=name, groups=(*groups, AUTHENTICATED))


def node_user(node: str) -> UserInfo:
    """The identity a kubelet runs as: `system:node:<node>` in `system:nodes`."""
    return component_user(f"system:node:{node}", NODES_GROUP)


class TokenAuthenticator:
    """Static bearer tokens: one `token,user,uid,"group1,group2"` line per identity."""

    def __init__(self, tokens: dict[str, UserInfo]) -> None:
        self._tokens = dict(tokens)

    @classmethod
    def from_csv(cls, text: str, *, source: str = "token file") -> TokenAuthenticator:
        """Parse the CSV; a malformed line is a `ValueError` naming it."""
        tokens: dict[str, UserInfo] = {}
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or (len(row) == 1 and not row[0].strip()) or row[0].startswith("#"):
                continue
            if len(row) < 3:
                raise ValueError(
                    f"{source}, line {number}: expected token,user,uid[,groups], got {row!r}"
                )
            token, name, uid = (field.strip() for field in row[:3])
            if not token or not name:
                raise ValueError(f"{source}, line {number}: token and user must not be empty")
            if token in tokens:
                raise ValueError(f"{source}, line {number}: duplicate token")
            groups = (
                tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
            )
            tokens[token] = UserInfo(name, uid, (*groups, AUTHENTICATED))
        return cls(tokens)

    @classmethod
    def from_file(cls, path: str | Path) -> TokenAuthenticator:
        return cls.from_csv(Path(path).read_text(encoding="utf-8"), source=str(path))

    def authenticate(self, token: str) -> UserInfo | None:
        """The user a token belongs to, or None for an unknown token."""
        return self._tokens.get(token)
