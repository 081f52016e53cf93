"""The static token file a served cluster starts with (its admin token); the tokens in
it are checked by the API package's `TokenAuthenticator`."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

__all__ = ["ensure_token_file"]


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
