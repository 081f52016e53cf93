"""Server-side printing: `Table` (meta.k8s.io/v1) rows with upstream's columns per kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Column", "human_duration", "table", "table_columns"]

Row = Callable[[Mapping[str, Any], datetime], list[Any]]


@dataclass(frozen=True)
class Column:
    """One column: shown by `kubectl get` if priority is 0, with `-o wide` as well if 1."""

    name: str
    description: str
    priority: int = 0
    type: str = "string"
    format: str = ""

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def human_duration(seconds: float) -> str:
    """A duration as `kubectl get` shows an age: "45s", "3m20s", "5h", "12d", "2y3d"."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest}d" if rest else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    stamp = obj.get("metadata", {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    try:
        created = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    return human_duration((now - created).total_seconds())


def _name(obj: Mapping[str, Any]) -> str:
    name: str = obj.get("metadata", {}).get("name", "")
    return name


_NAME = Column("Name", "Name must be unique within a namespace.", type="string", format="name")
_AGE = Column("Age", "CreationTimestamp is the time the object was created.")


def _pod_row(pod: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = pod.get("spec", {}), pod.get("status", {})
    containers = spec.get("containers", [])
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions", [])}
    phase = status.get("phase") or "Pending"
    ready = len(containers) if phase == "Running" and conditions.get("Ready") != "False" else 0
    reason = "Terminating" if pod.get("metadata", {}).get("deletionTimestamp") else phase
    return [
        _name(pod),
        f"{ready}/{len(containers)}",
        reason,
        "0",
        _age(pod, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        "<none>",
        "<none>",
    ]


_POD_COLUMNS = [
    _NAME,
    Column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", "The aggregate status of the containers in this pod."),
    Column("Restarts", "The number of times the containers in this pod have been restarted."),
    _AGE,
    Column("IP", "IP address allocated to the pod.", priority=1),
    Column("Node", "Name of the Node this pod is assigned to.", priority=1),
    Column("Nominated Node", "Name of the node nominated by the scheduler.", priority=1),
    Column("Readiness Gates", "Pod readiness gates.", priority=1),
]


def _node_row(node: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = node.get("spec", {}), node.get("status", {})
    ready = {c.get("type"): c.get("status") for c in status.get("conditions", [])}.get("Ready")
    state = {"True": "Ready", "False": "NotReady"}.get(ready or "", "Unknown")
    if spec.get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = node.get("metadata", {}).get("labels") or {}
    prefix = "node-role.kubernetes.io/"
    roles = sorted(key[len(prefix) :] for key in labels if key.startswith(prefix))
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses", [])}
    info = status.get("nodeInfo", {})
    return [
        _name(node),
        state,
        ",".join(role for role in roles if role) or "<none>",
        _age(node, now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


_NODE_COLUMNS = [
    _NAME,
    Column("Status", "The status of the node"),
    Column("Roles", "The roles of the node"),
    _AGE,
    Column("Version", "Kubelet Version reported by the node."),
    Column("Internal-IP", "List of internal IPs for the node.", priority=1),
    Column("External-IP", "List of external IPs for the node.", priority=1),
    Column("OS-Image", "OS Image reported by the node from /etc/os-release.", priority=1),
    Column("Kernel-Version", "Kernel Version reported by the node.", priority=1),
    Column("Container-Runtime", "Container Runtime Version reported by the node.", priority=1),
]


def _default_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    return [_name(obj), _age(obj, now)]


_PRINTERS: dict[str, tuple[list[Column], Row]] = {
    "Pod": (_POD_COLUMNS, _pod_row),
    "Node": (_NODE_COLUMNS, _node_row),
}


def table_columns(kind: str) -> list[Column]:
    """The columns `kubectl get` shows for `kind` (NAME and AGE for kinds without a printer)."""
    return _PRINTERS.get(kind, ([_NAME, _AGE], _default_row))[0]


def table(
    kind: str,
    objects: list[Mapping[str, Any]],
    now: datetime,
    *,
    version: str = "v1",
    resource_version: str = "",
    include_object: str = "Object",
    with_columns: bool = True,
) -> dict[str, Any]:
    """A `Table` of `objects` of `kind` as of `now` (for the ages).

    `include_object` is the client's `includeObject`: "Object" embeds each object
    whole, "Metadata" its metadata only, "None" nothing.
    """
    columns, row = _PRINTERS.get(kind, ([_NAME, _AGE], _default_row))
    rows = []
    for obj in objects:
        entry: dict[str, Any] = {"cells": row(obj, now)}
        if include_object == "Object":
            entry["object"] = obj
        elif include_object == "Metadata":
            entry["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata", {}),
            }
        rows.append(entry)
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [c.definition() for c in columns] if with_columns else [],
        "rows": rows,
    }
