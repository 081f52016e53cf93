"""A fleet of simulated nodes: kubelets sharing one pod dispatcher, heartbeat hub and
kube-proxy, over any `ApiClient` (HTTPS, for `kubeactors nodes`). `Cluster` wires its
own nodes the same way, one at a time, for its fault hooks (stop, start, partition)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .actors import ActorRef, ActorSystem
from .client import ApiClient
from .node import (
    HeartbeatHub,
    HeartbeatMessage,
    Kubelet,
    KubeletMessage,
    NodeSettings,
    NodeShape,
    PodDispatcher,
    make_runtime,
)
from .node.proxy import KubeProxy, ServiceTable
from .node.runtime import ContainerRuntime

__all__ = ["Fleet", "FleetClients", "spawn_fleet"]


@dataclass(frozen=True)
class FleetClients:
    """The client each part of the fleet asks with: each node's own (its identity),
    the pod dispatcher's and kube-proxy's."""

    node: Callable[[str], ApiClient]
    dispatcher: ApiClient
    proxy: ApiClient

    @classmethod
    def shared(cls, client: ApiClient) -> FleetClients:
        """One client (one identity) for all."""
        return cls(node=lambda _: client, dispatcher=client, proxy=client)


@dataclass
class Fleet:
    heartbeat: ActorRef[HeartbeatMessage]
    services: ServiceTable
    kubelets: dict[str, ActorRef[KubeletMessage]] = field(default_factory=dict)
    runtimes: list[ContainerRuntime] = field(default_factory=list)

    async def close(self) -> None:
        """End what the runtimes run (real processes), once the kubelets are stopped."""
        runtimes, self.runtimes = self.runtimes, []
        for runtime in runtimes:
            await runtime.close()


def spawn_fleet(
    system: ActorSystem,
    clients: FleetClients,
    names: list[str],
    *,
    first_index: int = 0,
    shape: NodeShape,
    settings: NodeSettings,
    wall_clock: Callable[[], datetime],
    seed: int = 0,
) -> Fleet:
    """Spawn kubelets named `names` (node numbers from `first_index`, which set their pod
    CIDR and host address) with their shared dispatcher, heartbeat hub and kube-proxy."""
    clock = system.clock
    dispatcher_client = clients.dispatcher
    dispatcher = system.spawn(lambda: PodDispatcher(dispatcher_client), name="pod-dispatcher")
    heartbeat = system.spawn(
        lambda: HeartbeatHub(
            dispatcher_client,
            wall_clock=wall_clock,
            lease_seconds=settings.lease_seconds,
            lease_duration_seconds=settings.lease_duration_seconds,
            status_seconds=settings.status_seconds,
            client_for=clients.node,
        ),
        name="node-heartbeat",
        mailbox_size=HeartbeatHub.mailbox_size,
    )
    fleet = Fleet(heartbeat, ServiceTable(clock.now))
    listen = settings.runtime == "process"
    proxy_client, services = clients.proxy, fleet.services
    system.spawn(lambda: KubeProxy(proxy_client, services, listen=listen), name="kube-proxy")
    supervisor = system.spawn_supervisor("nodes", max_restarts=max(3, len(names)))
    for index, name in enumerate(names, start=first_index):
        runtime = make_runtime(settings, node=name, clock=clock, wall_clock=wall_clock, seed=seed)
        fleet.runtimes.append(runtime)

        def make(
            name: str = name, index: int = index, runtime: ContainerRuntime = runtime
        ) -> Kubelet:
            return Kubelet(
                clients.node(name),
                dispatcher,
                name=name,
                index=index,
                shape=shape,
                wall_clock=wall_clock,
                settings=settings,
                runtime=runtime,
                heartbeat=heartbeat,
            )

        fleet.kubelets[name] = supervisor.spawn(make, name=name, mailbox_size=Kubelet.mailbox_size)
    return fleet
