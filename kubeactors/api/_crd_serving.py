"""`CustomResources`: what the API server keeps of the CRDs it serves, and the write
rules of custom objects (pruning, defaulting, validation, status, generation)."""

from __future__ import annotations

import dataclasses
import logging
from functools import partial
from typing import Any

import msgspec

from ._crd import CustomResourceDefinition
from ._crd_rules import crd_defaults, crd_status, established, name_conflict, validate_crd
from ._custom import (
    CRD_FINALIZER,
    CustomResourceKind,
    custom_kinds,
    normalize_custom,
    qualified,
    validate_custom,
)
from ._kinds import KindRegistry, ResourceKind
from ._meta import ApiObject
from ._status import ApiError, Status, StatusCause
from ._watch import ApiWatch
from ._writes import spec_changed

__all__ = ["CustomResources", "unsupported_custom_patch"]

logger = logging.getLogger(__name__)

replace = msgspec.structs.replace


def unsupported_custom_patch() -> ApiError:
    """415: a strategic merge patch of a custom object, which upstream refuses too."""
    return ApiError(
        Status(
            message=(
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml"
            ),
            reason="UnsupportedMediaType",
            code=415,
        )
    )


class CustomResources:
    """The custom kinds of each CRD (by CRD name), served through `kinds`."""

    def __init__(self, kinds: KindRegistry) -> None:
        self.kinds = kinds
        self._served: dict[str, list[CustomResourceKind]] = {}
        # The open watches on each CRD's kinds; a watch leaves its set when it ends.
        # (Not a WeakSet: the watches are compiled classes, which take no weak references.)
        self._watches: dict[str, set[ApiWatch[Any]]] = {}
        self.terminating: set[str] = set()

    # -- the CRDs themselves ------------------------------------------------------------

    def prepare(self, crd: CustomResourceDefinition, now: str) -> CustomResourceDefinition:
        """A CRD as written: defaulted, with the status its names earn it."""
        crd = crd_defaults(crd)
        if crd.metadata.deletion_timestamp is not None:
            return crd
        return crd_status(crd, name_conflict(crd, self.kinds), now)

    def serve(self, crd: CustomResourceDefinition) -> None:
        """Serve (or serve anew) the kinds of an established CRD; stop serving those
        it no longer declares."""
        name = crd.metadata.name
        old = self._served.pop(name, [])
        if not established(crd) or validate_crd(crd):
            self.kinds.remove(old)
            return
        if old and old[0].spec == crd.spec:
            # Nothing served changes (a status or metadata write): the same kinds stay.
            self._served[name] = old
            if crd.metadata.deletion_timestamp is not None:
                self.terminating.add(name)
            return
        new = [_reusing(kind, old) for kind in custom_kinds(crd)]
        kept = {(k.version, k.plural) for k in new}
        self.kinds.remove([k for k in old if (k.version, k.plural) not in kept])
        self.kinds.add(new)
        self._served[name] = new
        if crd.metadata.deletion_timestamp is not None:
            self.terminating.add(name)
        logger.info("serving %s (%s)", name, ", ".join(k.api_version for k in new))

    def unserve(self, name: str) -> None:
        """Stop serving a CRD's kinds, and end the watches on them (as upstream does:
        their clients relist and find the resource gone)."""
        self.kinds.remove(self._served.pop(name, []))
        self.terminating.discard(name)
        for watch in list(self._watches.pop(name, ())):
            watch.close()

    def track(self, kind: ResourceKind[Any], watch: ApiWatch[Any]) -> None:
        """Remember a watch on a custom kind, to end it when its CRD goes."""
        if isinstance(kind, CustomResourceKind):
            watches = self._watches.setdefault(kind.crd_name, set())
            watches.add(watch)
            watch.on_close(partial(watches.discard, watch))

    def kinds_of(self, name: str) -> list[CustomResourceKind]:
        return list(self._served.get(name, []))

    # -- custom objects -------------------------------------------------------------------

    def check_create(self, kind: ResourceKind[Any]) -> None:
        if isinstance(kind, CustomResourceKind) and kind.crd_name in self.terminating:
            raise ApiError.method_not_allowed(
                f"create not allowed while custom resource definition is terminating"
                f" ({kind.crd_name})"
            )

    def causes(self, kind: ResourceKind[Any], obj: ApiObject) -> list[StatusCause]:
        """What the schema (a custom kind) or the CRD rules (a CRD) find wrong."""
        if isinstance(kind, CustomResourceKind):
            return validate_custom(kind, obj)
        if isinstance(obj, CustomResourceDefinition):
            return validate_crd(obj)
        return []

    def updated(self, kind: CustomResourceKind, old: Any, merged: Any, subresource: str) -> Any:
        """A custom object's update after the common merge: pruned and defaulted;
        generation moves on any change but metadata (and status, when it is a
        subresource), as upstream's custom resource strategy does."""
        merged = normalize_custom(kind, merged, creating=False)
        if subresource:
            return merged
        generation = old.metadata.generation or 1
        changed = spec_changed(old, merged) or (
            not kind.has_status and getattr(old, "status") != getattr(merged, "status")  # noqa: B009
        )
        meta = replace(merged.metadata, generation=generation + 1 if changed else generation)
        return replace(merged, metadata=meta)

    @staticmethod
    def invalid(kind: ResourceKind[Any], name: str, causes: list[StatusCause]) -> ApiError:
        """422 as upstream words it: `Widget.example.com "w" is invalid: ...` for a
        custom kind, with the kind and group apart in the details."""
        if not isinstance(kind, CustomResourceKind):
            return ApiError.invalid(kind.kind, name, causes)
        status = ApiError.invalid(qualified(kind), name, causes).status
        details = replace(status.details, kind=kind.kind, group=kind.group)
        return ApiError(replace(status, details=details))


def _reusing(kind: CustomResourceKind, old: list[CustomResourceKind]) -> CustomResourceKind:
    """`kind`, with the type its version had before when that type has the same
    fields: a client holding the type keeps working across a schema change."""
    for previous in old:
        if previous.version == kind.version and (
            previous.type.__struct_encode_fields__ == kind.type.__struct_encode_fields__
        ):
            return dataclasses.replace(kind, type=previous.type)
    return kind


def mark_for_cleanup(crd: CustomResourceDefinition) -> CustomResourceDefinition:
    """A CRD asked to go: it keeps a finalizer until its objects are gone."""
    if CRD_FINALIZER in crd.metadata.finalizers:
        return crd
    meta = replace(crd.metadata, finalizers=[*crd.metadata.finalizers, CRD_FINALIZER])
    return replace(crd, metadata=meta)
