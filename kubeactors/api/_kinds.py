"""What the API server knows of each kind: its type, storage prefix and codec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from ._meta import ObjectMeta
from ._node import Node
from ._pod import Pod

__all__ = [
    "NODES",
    "PODS",
    "Resource",
    "ResourceKind",
    "UnknownKindError",
    "kind_of",
    "object_key",
]

Resource = Pod | Node
R = TypeVar("R", bound=Pod | Node)


@dataclass(frozen=True, eq=False)
class ResourceKind(Generic[R]):
    """One kind of resource: how it is named, stored and (de)serialised.

    Objects are stored without `resourceVersion` (the store's mod_revision is the
    version, as in Kubernetes' etcd3 storage), so one encoding serves every reader.
    """

    type: type[R]
    kind: str
    plural: str
    namespaced: bool
    registry: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "_encoder", msgspec.json.Encoder())
        object.__setattr__(self, "_decoder", msgspec.json.Decoder(self.type))

    def prefix(self, namespace: str = "") -> bytes:
        """The key prefix of every object of this kind (in `namespace`, if given)."""
        if self.namespaced and namespace:
            return self.registry + namespace.encode() + b"/"
        return self.registry

    def key(self, namespace: str, name: str) -> bytes:
        if self.namespaced:
            return self.registry + f"{namespace}/{name}".encode()
        return self.registry + name.encode()

    def encode(self, obj: R) -> bytes:
        encoder: msgspec.json.Encoder = getattr(self, "_encoder")  # noqa: B009
        return encoder.encode(obj)

    def decode(self, data: bytes, revision: int) -> R:
        """Decode a stored object and stamp it with the revision it was stored at."""
        decoder: msgspec.json.Decoder[Any] = getattr(self, "_decoder")  # noqa: B009
        obj: R = decoder.decode(data)
        return with_resource_version(obj, revision)


def with_resource_version(obj: R, revision: int) -> R:
    meta = msgspec.structs.replace(obj.metadata, resource_version=str(revision))
    return msgspec.structs.replace(obj, metadata=meta)


def without_resource_version(obj: R) -> R:
    if not obj.metadata.resource_version:
        return obj
    meta: ObjectMeta = msgspec.structs.replace(obj.metadata, resource_version="")
    return msgspec.structs.replace(obj, metadata=meta)


PODS: ResourceKind[Pod] = ResourceKind(Pod, "Pod", "pods", True, b"/registry/pods/")
NODES: ResourceKind[Node] = ResourceKind(Node, "Node", "nodes", False, b"/registry/minions/")

_BY_TYPE: dict[type[Any], ResourceKind[Any]] = {Pod: PODS, Node: NODES}


class UnknownKindError(TypeError):
    """A type that is not one of the kinds the API server serves."""


def kind_of(resource_type: type[R]) -> ResourceKind[R]:
    """The `ResourceKind` of a resource type; `UnknownKindError` for any other type."""
    try:
        return _BY_TYPE[resource_type]
    except (KeyError, TypeError):
        raise UnknownKindError(
            f"not a resource type the API server serves: {resource_type!r}"
        ) from None


def object_key(obj: Resource) -> str:
    """The cache key of an object, as client-go's: "namespace/name", or "name"."""
    meta = obj.metadata
    return f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
