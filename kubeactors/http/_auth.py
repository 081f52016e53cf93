"""Bearer-token authentication from a static token file, as kube-apiserver's."""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TokenFile", "User", "ensure_token_file"]


@dataclass(frozen=True)
class User:
    name: str
    uid: str
    groups: tuple[str, ...] = ()


class TokenFile:
    """`token,user,uid,"group1,group2"` lines (kube-apiserver's `--token-auth-file`)."""

    def __init__(self, tokens: dict[str, User]) -> None:
        self._tokens = dict(tokens)

    @classmethod
    def read(cls, path: Path) -> TokenFile:
        tokens: dict[str, User] = {}
        with path.open(newline="") as lines:
            for number, row in enumerate(csv.reader(lines), 1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) < 3:
                    raise ValueError(f"{path}:{number}: want token,user,uid[,groups]")
                groups = tuple(g for g in row[3].split(",") if g) if len(row) > 3 else ()
                tokens[row[0]] = User(row[1], row[2], groups)
        return cls(tokens)

    def authenticate(self, token: str) -> User | None:
        for known, user in self._tokens.items():
            if secrets.compare_digest(known.encode(), token.encode()):
                return user
        return None


def ensure_token_file(path: Path) -> str:
    """The admin token of `path`, written with a fresh random token on first use.

    A credential must not be predictable, so it comes from `secrets`, not from the
    cluster's seeded randomness.
    """
    if not path.exists():
        token = secrets.token_urlsafe(32)
        path.touch(mode=0o600)
        path.write_text(f'{token},admin,admin,"system:masters"\n')
        return token
    with path.open(newline="") as lines:
        for row in csv.reader(lines):
            if row and not row[0].startswith("#"):
                return row[0]
    raise ValueError(f"{path}: no token in the token file")
