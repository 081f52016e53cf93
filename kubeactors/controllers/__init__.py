"""The controller manager: controllers that keep the cluster at its desired state."""

from ._base import Controller, ControllerStatus, Inspect, Resync
from ._expectations import Expectations
from ._labels import selector_from_labels, selector_matches
from ._pods import deletion_order, is_available, is_ready
from ._workqueue import WorkQueue
from .deployment import DeploymentController, rollback
from .nodelifecycle import NodeLifecycleController, NodeLifecycleSettings
from .replicaset import (
    ReplicaSetController,
    ReplicationControllerController,
    slow_start_batches,
)

__all__ = [
    "Controller",
    "ControllerStatus",
    "DeploymentController",
    "Expectations",
    "Inspect",
    "NodeLifecycleController",
    "NodeLifecycleSettings",
    "ReplicaSetController",
    "ReplicationControllerController",
    "Resync",
    "WorkQueue",
    "deletion_order",
    "is_available",
    "is_ready",
    "rollback",
    "selector_from_labels",
    "selector_matches",
    "slow_start_batches",
]
