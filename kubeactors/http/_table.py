"""Server-side printing: `Table` (meta.k8s.io/v1) rows with upstream's columns per kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from ..api import CustomResourceColumnDefinition, CustomResourceKind, ResourceKind
from ._jsonpath import JsonPathError, find, parse

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


def _stamp(text: object) -> datetime | None:
    """A timestamp as Kubernetes writes it, or None for a missing or malformed one."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    created = _stamp(obj.get("metadata", {}).get("creationTimestamp"))
    if created is None:
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


def _selector(selector: Mapping[str, Any] | None) -> str:
    if not selector:
        return "<none>"
    labels = selector.get("matchLabels", selector) if "matchLabels" in selector else selector
    parts = [f"{key}={value}" for key, value in sorted(labels.items()) if isinstance(value, str)]
    for expression in selector.get("matchExpressions") or []:
        values = ",".join(expression.get("values") or [])
        parts.append(f"{expression.get('key')} {expression.get('operator', '').lower()} ({values})")
    return ",".join(parts) or "<none>"


def _containers(template: Mapping[str, Any]) -> tuple[str, str]:
    containers = template.get("spec", {}).get("containers", [])
    names = ",".join(c.get("name", "") for c in containers) or "<none>"
    images = ",".join(c.get("image", "") for c in containers) or "<none>"
    return names, images


def _deployment_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    desired = spec.get("replicas", 1)
    names, images = _containers(spec.get("template", {}))
    return [
        _name(obj),
        f"{status.get('readyReplicas', 0)}/{desired}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(obj, now),
        names,
        images,
        _selector(spec.get("selector")),
    ]


_WORKLOAD_WIDE = [
    Column("Containers", "Names of each container in the template.", priority=1),
    Column("Images", "Images referenced by each container in the template.", priority=1),
    Column("Selector", "Label selector for pods.", priority=1),
]


def _job_status(obj: Mapping[str, Any]) -> str:
    if obj.get("metadata", {}).get("deletionTimestamp"):
        return "Terminating"
    for condition in obj.get("status", {}).get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in (
            "Complete",
            "Failed",
            "Suspended",
        ):
            return str(condition["type"])
    return "Running"


def _job_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    succeeded = status.get("succeeded", 0)
    completions = spec.get("completions")
    parallelism = spec.get("parallelism", 1)
    if completions is not None:
        done = f"{succeeded}/{completions}"
    elif parallelism > 1:
        done = f"{succeeded}/1 of {parallelism}"
    else:
        done = f"{succeeded}/1"
    started = _stamp(status.get("startTime"))
    ended = _stamp(status.get("completionTime")) or now
    duration = human_duration((ended - started).total_seconds()) if started else ""
    names, images = _containers(spec.get("template", {}))
    return [
        _name(obj),
        _job_status(obj),
        done,
        duration,
        _age(obj, now),
        names,
        images,
        _selector(spec.get("selector")),
    ]


_JOB_COLUMNS = [
    _NAME,
    Column("Status", "Status of the job."),
    Column("Completions", "The completion status of the job."),
    Column("Duration", "Time required to complete the job."),
    _AGE,
    *_WORKLOAD_WIDE,
]

_DEPLOYMENT_COLUMNS = [
    _NAME,
    Column("Ready", "Number of the pod with ready state"),
    Column(
        "Up-to-date",
        "Total number of non-terminated pods with the desired template.",
        type="integer",
    ),
    Column("Available", "Number of available pods.", type="integer"),
    _AGE,
    *_WORKLOAD_WIDE,
]


def _replica_set_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = _containers(spec.get("template") or {})
    return [
        _name(obj),
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(obj, now),
        names,
        images,
        _selector(spec.get("selector")),
    ]


_REPLICA_SET_COLUMNS = [
    _NAME,
    Column("Desired", "Number of desired pods.", type="integer"),
    Column("Current", "Number of actual replicas.", type="integer"),
    Column("Ready", "Number of ready replicas.", type="integer"),
    _AGE,
    *_WORKLOAD_WIDE,
]


def _service_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = obj.get("spec", {})
    ports = ",".join(
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}"
        f"/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports", [])
    )
    ingress = obj.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    kind = spec.get("type") or "ClusterIP"
    if kind == "ExternalName":
        external = spec.get("externalName", "")
    elif not external:
        external = "<pending>" if kind == "LoadBalancer" else "<none>"
    return [
        _name(obj),
        kind,
        spec.get("clusterIP") or "<none>",
        external,
        ports or "<none>",
        _age(obj, now),
        _selector(spec.get("selector")),
    ]


_SERVICE_COLUMNS = [
    _NAME,
    Column("Type", "The type of the service."),
    Column("Cluster-IP", "The cluster IP of the service."),
    Column("External-IP", "The external IPs of the service."),
    Column("Port(s)", "The ports of the service."),
    _AGE,
    Column("Selector", "Route traffic to pods with these labels.", priority=1),
]


def _namespace_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    return [_name(obj), obj.get("status", {}).get("phase") or "Active", _age(obj, now)]


def _data_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    data = len(obj.get("data") or {}) + len(obj.get("binaryData") or obj.get("stringData") or {})
    if obj.get("kind") == "Secret":
        return [_name(obj), obj.get("type") or "Opaque", data, _age(obj, now)]
    return [_name(obj), data, _age(obj, now)]


def _event_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    involved = obj.get("involvedObject", {})
    last = (
        obj.get("lastTimestamp")
        or obj.get("eventTime")
        or obj.get("metadata", {}).get("creationTimestamp")
    )
    return [
        _age({"metadata": {"creationTimestamp": last}}, now),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        obj.get("message", ""),
    ]


def _endpoints_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    addresses = [
        f"{a.get('ip')}:{p.get('port')}" if subset.get("ports") else str(a.get("ip"))
        for subset in obj.get("subsets") or []
        for a in subset.get("addresses") or []
        for p in (subset.get("ports") or [{}])
    ]
    shown = ",".join(addresses[:3]) + (
        f" + {len(addresses) - 3} more..." if len(addresses) > 3 else ""
    )
    return [_name(obj), shown or "<none>", _age(obj, now)]


def _created_at_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    return [_name(obj), obj.get("metadata", {}).get("creationTimestamp") or "<unknown>"]


def _default_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    return [_name(obj), _age(obj, now)]


_PRINTERS: dict[str, tuple[list[Column], Row]] = {
    "Pod": (_POD_COLUMNS, _pod_row),
    "Node": (_NODE_COLUMNS, _node_row),
    "Deployment": (_DEPLOYMENT_COLUMNS, _deployment_row),
    "Job": (_JOB_COLUMNS, _job_row),
    "PodDisruptionBudget": (
        [
            _NAME,
            Column("Min Available", "The minimum number of pods that must be available."),
            Column("Max Unavailable", "The maximum number of pods that may be unavailable."),
            Column(
                "Allowed Disruptions",
                "Calculated number of pods that may be disrupted at this time.",
                type="integer",
            ),
            _AGE,
        ],
        lambda obj, now: [
            _name(obj),
            str(obj.get("spec", {}).get("minAvailable", "N/A")),
            str(obj.get("spec", {}).get("maxUnavailable", "N/A")),
            obj.get("status", {}).get("disruptionsAllowed", 0),
            _age(obj, now),
        ],
    ),
    "ReplicaSet": (_REPLICA_SET_COLUMNS, _replica_set_row),
    "ReplicationController": (_REPLICA_SET_COLUMNS, _replica_set_row),
    "Service": (_SERVICE_COLUMNS, _service_row),
    "Namespace": ([_NAME, Column("Status", "The status of the namespace"), _AGE], _namespace_row),
    "ConfigMap": (
        [_NAME, Column("Data", "Number of data entries.", type="integer"), _AGE],
        _data_row,
    ),
    "Secret": (
        [
            _NAME,
            Column("Type", "The type of the secret"),
            Column("Data", "Number of data entries.", type="integer"),
            _AGE,
        ],
        _data_row,
    ),
    "ServiceAccount": (
        [_NAME, Column("Secrets", "Number of secrets.", type="integer"), _AGE],
        lambda obj, now: [_name(obj), len(obj.get("secrets") or []), _age(obj, now)],
    ),
    "Event": (
        [
            Column("Last Seen", "Time of the last occurrence."),
            Column("Type", "Type of this event (Normal, Warning)."),
            Column("Reason", "Why the action was taken."),
            Column("Object", "The object this event is about."),
            Column("Message", "A description of the status of this operation."),
        ],
        _event_row,
    ),
    "Endpoints": ([_NAME, Column("Endpoints", "Endpoints of the service."), _AGE], _endpoints_row),
    "CustomResourceDefinition": (
        [_NAME, Column("Created At", "When the definition was created.", type="date")],
        _created_at_row,
    ),
}


def table_columns(kind: str) -> list[Column]:
    """The columns `kubectl get` shows for `kind` (NAME and AGE for kinds without a printer)."""
    return _PRINTERS.get(kind, ([_NAME, _AGE], _default_row))[0]


def _custom_printer(kind: CustomResourceKind) -> tuple[list[Column], Row]:
    """A CRD's `additionalPrinterColumns` after NAME (AGE alone when it has none)."""
    definitions = kind.columns or _DEFAULT_CUSTOM_COLUMNS
    columns = [_NAME]
    readers = []
    for definition in definitions:
        columns.append(
            Column(
                definition.name,
                definition.description,
                priority=definition.priority,
                type=definition.type,
                format=definition.format,
            )
        )
        try:
            steps = parse(definition.json_path)
        except JsonPathError:
            steps = None
        readers.append((definition.type, steps))

    def row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
        cells: list[Any] = [_name(obj)]
        for column_type, steps in readers:
            found = find(obj, steps) if steps is not None else []
            cells.append(_custom_cell(column_type, found[0], now) if found else None)
        return cells

    return columns, row


_DEFAULT_CUSTOM_COLUMNS = (
    CustomResourceColumnDefinition(
        name="Age",
        type="date",
        json_path=".metadata.creationTimestamp",
        description=_AGE.description,
    ),
)


def _custom_cell(column_type: str, value: Any, now: datetime) -> Any:
    """A cell as upstream's custom resource table convertor makes it (None: `<none>`)."""
    if column_type == "date":
        if not isinstance(value, str):
            return None
        return _age({"metadata": {"creationTimestamp": value}}, now)
    if column_type == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value)
    if column_type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if isinstance(value, float) else value
    if column_type == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return msgspec.json.encode(value).decode()


def _printer(kind: str | ResourceKind[Any]) -> tuple[list[Column], Row]:
    if isinstance(kind, CustomResourceKind):
        return _custom_printer(kind)
    name = kind if isinstance(kind, str) else kind.kind
    return _PRINTERS.get(name, ([_NAME, _AGE], _default_row))


def table(
    kind: str | ResourceKind[Any],
    objects: list[Mapping[str, Any]],
    now: datetime,
    *,
    version: str = "v1",
    resource_version: str = "",
    continue_: str = "",
    include_object: str = "Object",
    with_columns: bool = True,
) -> dict[str, Any]:
    """A `Table` of `objects` of `kind` (a kind's name, or the kind, which a custom
    kind must be for its printer columns) as of `now` (for the ages).

    `include_object` is the client's `includeObject`: "Object" embeds each object
    whole, "Metadata" its metadata only, "None" nothing. `continue_` is the token of
    the next page of a paged list (kubectl pages by 500).
    """
    columns, row = _printer(kind)
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
        "metadata": (
            {"resourceVersion": resource_version, "continue": continue_}
            if continue_
            else {"resourceVersion": resource_version}
        ),
        "columnDefinitions": [c.definition() for c in columns] if with_columns else [],
        "rows": rows,
    }
