"""Content negotiation: what the client's Accept header asks for."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MediaRange", "parse_accept", "wants"]


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header: `application/json;as=Table;g=meta.k8s.io;v=v1`."""

    type: str
    params: dict[str, str]

    def matches(self, media_type: str, **params: str) -> bool:
        if self.type not in (media_type, "*/*", media_type.split("/")[0] + "/*"):
            return False
        return all(self.params.get(name) == value for name, value in params.items())


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header, in the order the client gave them."""
    ranges: list[MediaRange] = []
    for item in header.split(","):
        parts = [part.strip() for part in item.split(";")]
        if not parts[0]:
            continue
        params: dict[str, str] = {}
        for part in parts[1:]:
            name, _, value = part.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        ranges.append(MediaRange(parts[0].lower(), params))
    return ranges


def wants(ranges: list[MediaRange], as_: str, group: str, versions: tuple[str, ...]) -> str | None:
    """The first of `versions` the client asks for as `as_` of `group` (JSON), if any.

    Only entries naming `as_` count: a plain `application/json` is the fallback the
    client offers when the server knows no better, so it never selects the special form.
    """
    for media in ranges:
        if media.params.get("as") != as_ or media.params.get("g") != group:
            continue
        if media.type not in ("application/json", "*/*") and not media.type.endswith("+json"):
            continue
        version = media.params.get("v", "")
        if version in versions:
            return version
    return None
