"""`ControllerManager`: runs the controllers while it holds the leader Lease.

Several managers (say, in two processes against one API) may run; each tries every
`retry_period` to acquire or renew the Lease `kube-controller-manager` in
`kube-system`. The holder starts the controllers; a manager that cannot renew within
`renew_deadline` stops its controllers at once, before another can take over (the
Lease must first go `lease_duration` without renewal), so two never act together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import msgspec

from .._election import LeaderElection, acquire_or_renew
from ..actors import Actor, ActorRef, Reply, Supervisor
from ..api import KindRegistry
from ..client import Client
from ._base import Controller
from .deployment import DeploymentController
from .disruption import DisruptionController
from .endpoints import EndpointsController, EndpointSliceController
from .garbagecollector import GarbageCollector
from .job import JobController
from .nodelifecycle import NodeLifecycleController, NodeLifecycleSettings
from .replicaset import ReplicaSetController, ReplicationControllerController
from .resourcequota import ResourceQuotaController
from .serviceaccount import ServiceAccountsController
from .tainteviction import TaintEvictionController

__all__ = [
    "ALL_CONTROLLERS",
    "ControllerManager",
    "ControllerManagerSettings",
    "ManagerState",
    "State",
]

logger = logging.getLogger(__name__)

LEASE_NAME = "kube-controller-manager"
LEASE_NAMESPACE = "kube-system"

ALL_CONTROLLERS = (
    "replicaset",
    "replicationcontroller",
    "deployment",
    "job",
    "nodelifecycle",
    "taint-eviction",
    "endpoints",
    "endpointslice",
    "garbagecollector",
    "resourcequota",
    "serviceaccount",
    "disruption",
)


@dataclass(frozen=True)
class ControllerManagerSettings:
    """Which controllers run, and upstream's leader-election timings (seconds)."""

    controllers: tuple[str, ...] = ALL_CONTROLLERS
    node_lifecycle: NodeLifecycleSettings = field(default_factory=NodeLifecycleSettings)
    leader_elect: bool = True
    identity: str = "controller-manager"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.controllers) - set(ALL_CONTROLLERS))
        if unknown:
            raise ValueError(f"controllers: unknown {unknown}; known: {list(ALL_CONTROLLERS)}")
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError(
                "need 0 < retry_period < renew_deadline < lease_duration, got "
                f"{self.retry_period}, {self.renew_deadline}, {self.lease_duration}"
            )


class ManagerState(msgspec.Struct, frozen=True):
    identity: str
    leading: bool
    controllers: list[str]


class State(msgspec.Struct, frozen=True):
    reply: Reply[ManagerState]


class _Elect(msgspec.Struct, frozen=True):
    pass


def _factories(
    client: Client, settings: ControllerManagerSettings, kinds: KindRegistry | None
) -> dict[str, Callable[[], Controller]]:
    return {
        "replicaset": lambda: ReplicaSetController(client),
        "replicationcontroller": lambda: ReplicationControllerController(client),
        "deployment": lambda: DeploymentController(client),
        "job": lambda: JobController(client),
        "nodelifecycle": lambda: NodeLifecycleController(client, settings.node_lifecycle),
        "taint-eviction": lambda: TaintEvictionController(
            client, settings.node_lifecycle.default_toleration_seconds
        ),
        "endpoints": lambda: EndpointsController(client),
        "endpointslice": lambda: EndpointSliceController(client),
        "garbagecollector": lambda: GarbageCollector(client, kinds),
        "resourcequota": lambda: ResourceQuotaController(client),
        "serviceaccount": lambda: ServiceAccountsController(client),
        "disruption": lambda: DisruptionController(client),
    }


class ControllerManager(Actor[State | _Elect]):
    """Spawns the chosen controllers into `supervisor` while it leads."""

    def __init__(
        self,
        client: Client,
        supervisor: Supervisor,
        settings: ControllerManagerSettings | None = None,
        kinds: KindRegistry | None = None,
    ) -> None:
        self.client = client
        self.supervisor = supervisor
        self.settings = settings or ControllerManagerSettings()
        # The API server's kinds, in process: the garbage collector follows custom kinds.
        self.kinds = kinds
        self._running: dict[str, ActorRef[Any]] = {}
        self._renewed_at: float | None = None
        self._term = 0

    async def on_start(self) -> None:
        if not self.settings.leader_elect:
            self._start_controllers()
            return
        await self._elect()
        self.context.send_every(self.settings.retry_period, _Elect())

    async def on_stop(self) -> None:
        # Ask the controllers to stop without waiting: at shutdown their supervisor may
        # already be gone (waiting would hang), and a successor waits a lease duration.
        running, self._running = self._running, {}
        for ref in running.values():
            with anyio.CancelScope() as scope:
                scope.cancel()
                await ref.stop()  # marks it stopping before its first wait

    async def receive(self, message: State | _Elect) -> None:
        match message:
            case State(reply=reply):
                reply.send(
                    ManagerState(self.settings.identity, bool(self._running), sorted(self._running))
                )
            case _Elect():
                await self._elect()

    # -- leader election ----------------------------------------------------------------

    async def _elect(self) -> None:
        held = await self._try_acquire_or_renew()
        now = self.context.clock.now()
        if held:
            self._renewed_at = now
            if not self._running:
                logger.info("%s leads; starting controllers", self.settings.identity)
                self._start_controllers()
        elif self._running and (
            self._renewed_at is None or now - self._renewed_at > self.settings.renew_deadline
        ):
            logger.warning("%s lost the lease; stopping controllers", self.settings.identity)
            await self._stop_controllers()

    async def _try_acquire_or_renew(self) -> bool:
        settings = self.settings
        election = LeaderElection(
            settings.identity,
            lease_duration=settings.lease_duration,
            renew_deadline=settings.renew_deadline,
            retry_period=settings.retry_period,
        )
        return await acquire_or_renew(
            self.client, LEASE_NAME, LEASE_NAMESPACE, election, self.context.clock.wall()
        )

    # -- the controllers --------------------------------------------------------------

    def _start_controllers(self) -> None:
        self._term += 1
        factories = _factories(self.client, self.settings, self.kinds)
        for name in self.settings.controllers:
            self._running[name] = self.supervisor.spawn(
                factories[name], name=f"{self.settings.identity}-{name}-{self._term}"
            )

    async def _stop_controllers(self) -> None:
        running, self._running = self._running, {}
        for ref in reversed(list(running.values())):
            await ref.stop()
