"""The controller manager: controllers that keep the cluster at its desired state."""

from ._base import Controller, ControllerStatus, Inspect, Resync
from ._expectations import Expectations
from ._labels import selector_from_labels, selector_matches
from ._pods import deletion_order, is_available, is_ready
from .deployment import DeploymentController, rollback
from .disruption import DisruptionController, budget_selects, healthy_budget
from .endpoints import EndpointsController, EndpointSliceController
from .garbagecollector import GarbageCollector
from .job import JobController, job_backoff
from .manager import (
    ALL_CONTROLLERS,
    ControllerManager,
    ControllerManagerSettings,
    ManagerState,
    State,
)
from .nodelifecycle import NodeLifecycleController, NodeLifecycleSettings
from .replicaset import (
    ReplicaSetController,
    ReplicationControllerController,
    slow_start_batches,
)
from .resourcequota import ResourceQuotaController, quota_usage
from .serviceaccount import DEFAULT_SERVICE_ACCOUNT, ServiceAccountsController
from .tainteviction import TaintEvictionController

__all__ = [
    "ALL_CONTROLLERS",
    "DEFAULT_SERVICE_ACCOUNT",
    "Controller",
    "ControllerManager",
    "ControllerManagerSettings",
    "ControllerStatus",
    "DeploymentController",
    "DisruptionController",
    "EndpointSliceController",
    "EndpointsController",
    "Expectations",
    "GarbageCollector",
    "Inspect",
    "JobController",
    "ManagerState",
    "NodeLifecycleController",
    "NodeLifecycleSettings",
    "ReplicaSetController",
    "ReplicationControllerController",
    "ResourceQuotaController",
    "Resync",
    "ServiceAccountsController",
    "State",
    "TaintEvictionController",
    "budget_selects",
    "deletion_order",
    "healthy_budget",
    "is_available",
    "is_ready",
    "job_backoff",
    "quota_usage",
    "rollback",
    "selector_from_labels",
    "selector_matches",
    "slow_start_batches",
]
