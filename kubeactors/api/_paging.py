"""Continue tokens for paginated lists: where the next page starts, at which revision."""

from __future__ import annotations

import base64
import binascii

import msgspec

from ._status import bad_request

__all__ = ["decode_continue", "encode_continue"]


class _Token(msgspec.Struct, frozen=True):
    v: str
    rv: int
    start: str


def encode_continue(revision: int, next_key: bytes, prefix: bytes) -> str:
    """A token naming the revision of the first page and the key the next page starts at."""
    start = next_key[len(prefix) :].decode()
    token = _Token("meta.k8s.io/v1", revision, start)
    return base64.urlsafe_b64encode(msgspec.json.encode(token)).decode().rstrip("=")


def decode_continue(token: str, prefix: bytes) -> tuple[int, bytes]:
    """(revision, first key) of a continue token; a malformed one is a 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = msgspec.json.decode(base64.urlsafe_b64decode(padded), type=_Token)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise bad_request(f"continue key is not valid: {token!r}") from None
    if decoded.v != "meta.k8s.io/v1" or decoded.rv <= 0 or ".." in decoded.start:
        raise bad_request(f"continue key is not valid: {token!r}")
    return decoded.rv, prefix + decoded.start.encode()
