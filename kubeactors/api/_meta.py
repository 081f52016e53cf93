"""Metadata shared by every resource: ObjectMeta, selectors, lists and watch events."""

from __future__ import annotations

import binascii
import functools
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

import msgspec

from ._base import ObjectStruct, WireStruct

__all__ = [
    "ApiObject",
    "LabelSelector",
    "LabelSelectorRequirement",
    "ListMeta",
    "ManagedFieldsEntry",
    "ObjectList",
    "ObjectMeta",
    "ObjectReference",
    "OwnerReference",
    "WatchEvent",
    "WatchEventType",
    "format_time",
    "parse_time",
    "random_uid",
    "random_uids",
]

T = TypeVar("T")

WatchEventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]


class OwnerReference(WireStruct, frozen=True):
    """metav1.OwnerReference: the object this one belongs to (for garbage collection)."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ManagedFieldsEntry(WireStruct, frozen=True):
    """metav1.ManagedFieldsEntry: the fields one manager set, by one kind of operation.

    `fields_v1` is the FieldsV1 tree (`{"f:spec": {"f:replicas": {}}}`), kept as
    plain JSON: only the HTTP face's field manager reads it.
    """

    manager: str = ""
    operation: Literal["Apply", "Update"] = "Update"
    api_version: str = ""
    time: str | None = None
    fields_type: str = "FieldsV1"
    fields_v1: dict[str, Any] = msgspec.field(default_factory=dict)
    subresource: str = ""


class ObjectMeta(WireStruct, frozen=True):
    """metav1.ObjectMeta: identity, version, labels and lifecycle of one object."""

    name: str = ""
    generate_name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: int = 0
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    owner_references: list[OwnerReference] = msgspec.field(default_factory=list)
    finalizers: list[str] = msgspec.field(default_factory=list)
    managed_fields: list[ManagedFieldsEntry] = msgspec.field(default_factory=list)


class ObjectReference(WireStruct, frozen=True):
    """core/v1 ObjectReference: which object an Event or an endpoint is about."""

    kind: str = ""
    namespace: str = ""
    name: str = ""
    uid: str = ""
    api_version: str = ""
    resource_version: str = ""
    field_path: str = ""


class LabelSelectorRequirement(WireStruct, frozen=True):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = msgspec.field(default_factory=list)


class LabelSelector(WireStruct, frozen=True):
    """metav1.LabelSelector: every `matchLabels` pair and every expression must hold."""

    match_labels: dict[str, str] = msgspec.field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = msgspec.field(default_factory=list)


class ApiObject(ObjectStruct, frozen=True):
    """A stored top-level object: `apiVersion`, `kind` and `metadata`, then its own fields.

    Each kind overrides the `api_version` and `kind` defaults.
    """

    api_version: str = ""
    kind: str = ""
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class ListMeta(WireStruct, frozen=True):
    """metav1.ListMeta: the revision a list was read at, and where the next page starts."""

    resource_version: str = ""
    continue_: str = msgspec.field(default="", name="continue")
    remaining_item_count: int | None = None


class ObjectList(msgspec.Struct, Generic[T], frozen=True, kw_only=True, rename="camel"):
    """A list of objects of one kind (PodList, NodeList), as read at one revision."""

    api_version: str = "v1"
    kind: str
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[T] = msgspec.field(default_factory=list)

    @property
    def resource_version(self) -> str:
        return self.metadata.resource_version

    @property
    def continue_(self) -> str:
        return self.metadata.continue_


class WatchEvent(msgspec.Struct, Generic[T], frozen=True):
    """One change seen by a watch: ADDED, MODIFIED, DELETED or BOOKMARK, with the object.

    A BOOKMARK's object carries only `metadata.resourceVersion`: the watch has seen
    every change up to there.
    """

    type: WatchEventType
    object: T


# The same moment as the last call comes often (many kubelets at once, say).
@functools.lru_cache(maxsize=1)
def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with second precision, as Kubernetes writes timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The version (4, bits 76-79) and variant (10, bits 62-63) of RFC 4122, set in the
# bits.
_UID_KEEP = ~((0xF << 76) | (0b11 << 62)) & ((1 << 128) - 1)
_UID_SET = (0x4 << 76) | (0b10 << 62)
# A uid's text is its 32 hex digits with a dash before the 9th, 13th, 17th and 21st:
# where each digit goes in the 37 characters a uid and the comma after it take.
_UID_TEXT = 37
_UID_PLACES = tuple(digit + sum(digit >= cut for cut in (8, 12, 16, 20)) for digit in range(32))


def random_uid(bits: int) -> str:
    """`str(uuid.UUID(int=bits, version=4))` (the same text for the same 128 random
    bits), formatted directly: a create pays for it, and the uuid module's way is
    several times slower."""
    return random_uids(bits, 1)[0]


def random_uids(bits: int, count: int) -> list[str]:
    """The uids (`random_uid`) of `count` draws of 128 bits packed in `bits` as
    `getrandbits(128 * count)` packs `count` calls of `getrandbits(128)` (the first
    in the lowest bits), the last first: `pop()` takes them in the order drawn.

    One draw and one conversion to hex for many uids: a server creating objects
    one after another makes them in batches. The digits are laid into a template of
    the batch's text one digit place at a time, for every uid at once (32 slice
    assignments instead of cutting and joining five pieces per uid), and the text
    is split into the uids in one call."""
    keep, set_, template = _uid_batch(count)
    digits = binascii.b2a_hex(((bits & keep) | set_).to_bytes(16 * count, "big"))
    text = bytearray(template)
    for digit, place in enumerate(_UID_PLACES):
        text[place::_UID_TEXT] = digits[digit::32]
    return text.decode("ascii").split(",")


@functools.lru_cache(maxsize=8)
def _uid_batch(count: int) -> tuple[int, int, bytes]:
    """The masks of `count` packed draws, and the text of as many uids with their
    dashes and commas in place."""
    keep = set_ = 0
    for _ in range(count):
        keep, set_ = (keep << 128) | _UID_KEEP, (set_ << 128) | _UID_SET
    template = ",".join(["00000000-0000-0000-0000-000000000000"] * count)
    return keep, set_, template.encode("ascii")


NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""The letters of the random suffix Kubernetes appends to `generateName` (no vowels,
no look-alikes), five of them."""

_NAME_LENGTH = 5
NAME_SUFFIXES = len(NAME_ALPHABET) ** _NAME_LENGTH


def name_suffix(draw: int) -> str:
    """The suffix numbered `draw` (0 <= draw < NAME_SUFFIXES): its digits in the
    alphabet's base as letters, so one random draw names an object instead of one
    per letter."""
    letters = []
    for _ in range(_NAME_LENGTH):
        draw, digit = divmod(draw, len(NAME_ALPHABET))
        letters.append(NAME_ALPHABET[digit])
    return "".join(letters)


def parse_time(text: str | None) -> datetime | None:
    """Parse a timestamp Kubernetes wrote; None for a missing or malformed one."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
