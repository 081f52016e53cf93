"""Metadata shared by every resource: ObjectMeta, ListMeta, lists and watch events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar

import msgspec

from ._base import WireStruct

__all__ = ["ListMeta", "ObjectList", "ObjectMeta", "WatchEvent", "WatchEventType", "format_time"]

T = TypeVar("T")

WatchEventType = Literal["ADDED", "MODIFIED", "DELETED"]


class ObjectMeta(WireStruct, frozen=True):
    """metav1.ObjectMeta: identity, version and labels of one object."""

    name: str = ""
    generate_name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    creation_timestamp: str | None = None
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class ListMeta(WireStruct, frozen=True):
    """metav1.ListMeta: the revision a list was read at."""

    resource_version: str = ""
    continue_: str = msgspec.field(default="", name="continue")


class ObjectList(msgspec.Struct, Generic[T], frozen=True, kw_only=True, rename="camel"):
    """A list of objects of one kind (PodList, NodeList), as read at one revision."""

    api_version: str = "v1"
    kind: str
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[T] = msgspec.field(default_factory=list)

    @property
    def resource_version(self) -> str:
        return self.metadata.resource_version


class WatchEvent(msgspec.Struct, Generic[T], frozen=True):
    """One change seen by a watch: ADDED, MODIFIED or DELETED, with the object."""

    type: WatchEventType
    object: T


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with second precision, as Kubernetes writes timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
