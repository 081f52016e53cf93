"""Parsing pods once per template: replicas of one template share their `PodInfo` parse.

The pods of a Deployment, a Job or a benchmark's template differ only in their names,
yet parsing one (selectors, quantities, tolerations, affinity terms) costs tens of
microseconds. The parse is kept under a *signature*: the encoded form of everything
`pod_info` reads except the pod's name and start time. Pods with equal signatures
schedule alike, which is also what lets the scheduler place a run of them as a batch.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any

import msgspec

from ..api import Pod
from ._podinfo import PodInfo, pod_info

__all__ = ["ParsedPods", "signature_of"]

_encode = msgspec.json.Encoder().encode
_FIELDS = [f.name for f in dataclasses.fields(PodInfo)]
_POD, _KEY, _NAMESPACE, _START = (
    _FIELDS.index(name) for name in ("pod", "key", "namespace", "start_time")
)


def signature_of(pod: Pod) -> bytes:
    """Everything the scheduler reads of `pod` but its name, uid, version and start
    time (its controller is read: default spreading follows it)."""
    meta = pod.metadata
    controller = next(
        ((r.api_version, r.kind, r.name) for r in meta.owner_references if r.controller), None
    )
    return _encode(
        (
            meta.namespace,
            meta.labels,
            meta.deletion_timestamp is not None,
            pod.spec,
            pod.status.nominated_node_name,
            controller,
        )
    )


class ParsedPods:
    """`pod_info` with a bounded cache of parses by signature."""

    def __init__(self, size: int = 1024) -> None:
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        self._size = size
        self._parsed: OrderedDict[bytes, list[Any]] = OrderedDict()
        """Signature -> the field values of a `PodInfo` of that signature."""

    def info(self, pod: Pod) -> PodInfo:
        """The `PodInfo` of `pod`; raises `SelectorError` naming a malformed field."""
        signature = signature_of(pod)
        template = self._parsed.get(signature)
        if template is None:
            parsed = pod_info(pod)
            parsed.signature = signature
            self._parsed[signature] = [getattr(parsed, name) for name in _FIELDS]
            if len(self._parsed) > self._size:
                self._parsed.popitem(last=False)
            return parsed
        self._parsed.move_to_end(signature)
        # A new PodInfo sharing the template's parsed parts, which nothing modifies.
        values = template.copy()
        meta = pod.metadata
        values[_POD] = pod
        values[_KEY] = f"{template[_NAMESPACE]}/{meta.name}"
        values[_START] = pod.status.start_time or meta.creation_timestamp or ""
        return PodInfo(*values)
