"""The base classes that give every API type Kubernetes' JSON conventions."""

from __future__ import annotations

import msgspec

__all__ = ["IntOrString", "ObjectStruct", "WireStruct"]

IntOrString = int | str
"""intstr.IntOrString: `maxSurge: 1` or `maxSurge: "25%"`."""


# Resources hold only strings, numbers, lists, dicts and other resources, so they
# can never be part of a reference cycle: `gc=False` keeps the garbage collector
# from scanning the tens of thousands of them a large cluster holds.
class WireStruct(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True, gc=False
):
    """A nested part of an object: camelCase names, fields at their default omitted."""


class ObjectStruct(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """A top-level object: every field written, so `apiVersion` and `kind` always are."""
