"""The API server: Kubernetes resource types, quantities, validation and the server actor."""

from ._kinds import NODES, PODS, Resource, ResourceKind, kind_of, object_key
from ._messages import ApiRequest, Create, Delete, Get, List, Update, Watch
from ._meta import ListMeta, ObjectList, ObjectMeta, WatchEvent, WatchEventType, format_time
from ._node import Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus
from ._pod import Container, Pod, PodCondition, PodPhase, PodSpec, PodStatus, ResourceRequirements
from ._quantity import (
    QuantityError,
    format_cpu,
    format_memory,
    parse_cpu,
    parse_memory,
    parse_quantity,
)
from ._resources import Resources, node_allocatable, pod_requests
from ._server import ApiServer
from ._status import ApiError, Status, StatusCause, StatusDetails
from ._watch import ApiWatch

__all__ = [
    "NODES",
    "PODS",
    "ApiError",
    "ApiRequest",
    "ApiServer",
    "ApiWatch",
    "Container",
    "Create",
    "Delete",
    "Get",
    "List",
    "ListMeta",
    "Node",
    "NodeAddress",
    "NodeCondition",
    "NodeSpec",
    "NodeStatus",
    "ObjectList",
    "ObjectMeta",
    "Pod",
    "PodCondition",
    "PodPhase",
    "PodSpec",
    "PodStatus",
    "QuantityError",
    "Resource",
    "ResourceKind",
    "ResourceRequirements",
    "Resources",
    "Status",
    "StatusCause",
    "StatusDetails",
    "Update",
    "Watch",
    "WatchEvent",
    "WatchEventType",
    "format_cpu",
    "format_memory",
    "format_time",
    "kind_of",
    "node_allocatable",
    "object_key",
    "parse_cpu",
    "parse_memory",
    "parse_quantity",
    "pod_requests",
]
