"""The kinds served over HTTP, found by the paths that name them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..api import KINDS, KindRegistry, ResourceKind

__all__ = ["KindIndex", "default_kinds"]


class KindIndex:
    """The API server's kinds by (group, version, plural), in the registry's order.

    Kinds can come and go while serving (a CustomResourceDefinition adds one):
    `generation` counts the changes, so that documents built from the index (OpenAPI)
    know when they are stale.
    """

    def __init__(self, kinds: Iterable[ResourceKind[Any]]) -> None:
        self.kinds = list(kinds)
        self._by_path = {(k.group, k.version, k.plural): k for k in self.kinds}
        self.generation = 0

    @classmethod
    def following(cls, registry: KindRegistry) -> KindIndex:
        """An index of `registry`'s kinds that follows its changes: the kinds of a
        CustomResourceDefinition are served as soon as the API server registers them."""
        index = cls(registry)
        registry.subscribe(index._changed)
        return index

    def _changed(self, added: list[ResourceKind[Any]], removed: list[ResourceKind[Any]]) -> None:
        for kind in removed:
            if self._by_path.get((kind.group, kind.version, kind.plural)) is kind:
                self.remove(kind.group, kind.version, kind.plural)
        for kind in added:
            self.add(kind)

    def add(self, kind: ResourceKind[Any]) -> None:
        """Serve `kind` from now on (replacing one at the same group, version and plural)."""
        self.remove(kind.group, kind.version, kind.plural)
        self.kinds.append(kind)
        self._by_path[(kind.group, kind.version, kind.plural)] = kind
        self.generation += 1

    def remove(self, group: str, version: str, plural: str) -> None:
        """Stop serving the kind at `group`/`version`/`plural`, if it is served."""
        kind = self._by_path.pop((group, version, plural), None)
        if kind is not None:
            self.kinds.remove(kind)
            self.generation += 1

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
