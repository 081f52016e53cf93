"""The kinds served over HTTP: what discovery, paths and printing need of each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..api import NODES, PODS, ResourceKind

__all__ = ["KindIndex", "ServedKind", "default_kinds"]

_ALL_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ServedKind:
    """One kind as the REST API shows it: its group, version, names and verbs."""

    resource: ResourceKind[Any]
    group: str = ""
    version: str = "v1"
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _ALL_VERBS
    subresources: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.resource.kind

    @property
    def plural(self) -> str:
        return self.resource.plural

    @property
    def namespaced(self) -> bool:
        return self.resource.namespaced

    @property
    def type(self) -> type[Any]:
        return self.resource.type

    @property
    def group_version(self) -> str:
        """ "v1" for the core group, "apps/v1" for the others."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()


@dataclass
class KindIndex:
    """The served kinds by group-version and plural, in a stable order."""

    kinds: list[ServedKind]
    _by_path: dict[tuple[str, str, str], ServedKind] = field(init=False)

    def __post_init__(self) -> None:
        self._by_path = {(k.group, k.version, k.plural): k for k in self.kinds}

    def find(self, group: str, version: str, plural: str) -> ServedKind | None:
        return self._by_path.get((group, version, plural))

    def groups(self) -> dict[str, list[str]]:
        """Each group ("" for core) with its versions, preferred first."""
        groups: dict[str, list[str]] = {}
        for kind in self.kinds:
            versions = groups.setdefault(kind.group, [])
            if kind.version not in versions:
                versions.append(kind.version)
        return groups

    def in_group_version(self, group: str, version: str) -> list[ServedKind]:
        return [k for k in self.kinds if k.group == group and k.version == version]


def default_kinds() -> KindIndex:
    """Every kind the API server serves, with upstream's short names and categories."""
    return KindIndex(
        [
            ServedKind(PODS, singular="pod", short_names=("po",), categories=("all",)),
            ServedKind(NODES, singular="node", short_names=("no",)),
        ]
    )
