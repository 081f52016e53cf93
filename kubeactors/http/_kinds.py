"""The kinds served over HTTP, found by the paths that name them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..api import KINDS, ResourceKind

__all__ = ["KindIndex", "default_kinds"]


class KindIndex:
    """The API server's kinds by (group, version, plural), in the registry's order."""

    def __init__(self, kinds: Iterable[ResourceKind[Any]]) -> None:
        self.kinds = list(kinds)
        self._by_path = {(k.group, k.version, k.plural): k for k in self.kinds}

    def find(self, group: str, version: str, plural: str) -> ResourceKind[Any] | None:
        return self._by_path.get((group, version, plural))

    def groups(self) -> dict[str, list[str]]:
        """Each group ("" for core) with its versions, preferred first."""
        groups: dict[str, list[str]] = {}
        for kind in self.kinds:
            versions = groups.setdefault(kind.group, [])
            if kind.version not in versions:
                versions.append(kind.version)
        return groups

    def in_group_version(self, group: str, version: str) -> list[ResourceKind[Any]]:
        return [k for k in self.kinds if k.group == group and k.version == version]


def default_kinds() -> KindIndex:
    """Every kind in the API server's registry."""
    return KindIndex(KINDS)
