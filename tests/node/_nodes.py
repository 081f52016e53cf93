"""Kubelets on a test API server: start them, bind pods to them, wait for pod states."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import msgspec

from kubeactors.actors import ActorRef
from kubeactors.api import ApiError, ApiObject, Container, Node, ObjectMeta, Pod, PodSpec
from kubeactors.client import Delta, Informer
from kubeactors.node import (
    HeartbeatHub,
    Kubelet,
    NodeSettings,
    NodeShape,
    PodDispatcher,
    make_runtime,
)
from kubeactors.node.runtime import ContainerRuntime

from ..api.harness import FIXED_TIME, Harness, wait_for

__all__ = [
    "FAST",
    "Nodes",
    "bound_pod",
    "change_node",
    "eventually",
    "wait_for_objects",
    "wait_for_pod",
]

T = TypeVar("T", bound=ApiObject)

FAST = NodeSettings(
    lease_seconds=0.2,
    status_seconds=0.4,
    backoff_initial_seconds=0.2,
    backoff_max_seconds=0.8,
    status_retry_seconds=0.02,
)
"""Timings short enough for tests: heartbeats every 0.2 s, back-off from 0.2 s."""


class Nodes:
    """A dispatcher, a heartbeat hub and kubelets, each with a runtime that outlives it."""

    def __init__(self, h: Harness, settings: NodeSettings = FAST) -> None:
        self.h = h
        self.settings = settings
        self.dispatcher = h.system.spawn(lambda: PodDispatcher(h.client), name="pod-dispatcher")
        self.heartbeat = h.system.spawn(
            lambda: HeartbeatHub(
                h.client,
                wall_clock=lambda: FIXED_TIME,
                lease_seconds=settings.lease_seconds,
                status_seconds=settings.status_seconds,
            ),
            name="heartbeat",
        )
        self.runtimes: dict[str, ContainerRuntime] = {}
        self.kubelets: dict[str, ActorRef[Any]] = {}
        self._incarnations = 0

    def start(
        self,
        index: int,
        *,
        shape: NodeShape | None = None,
        settings: NodeSettings | None = None,
    ) -> ActorRef[Any]:
        name = f"node-{index}"
        settings = settings or self.settings
        runtime = self.runtimes.get(name)
        if runtime is None:
            runtime = make_runtime(
                settings, node=name, clock=self.h.system.clock, wall_clock=lambda: FIXED_TIME
            )
            self.runtimes[name] = runtime
        self._incarnations += 1
        client, dispatcher, heartbeat = self.h.client, self.dispatcher, self.heartbeat

        def make() -> Kubelet:
            return Kubelet(
                client,
                dispatcher,
                name=name,
                index=index,
                shape=shape or NodeShape(),
                wall_clock=lambda: FIXED_TIME,
                settings=settings,
                runtime=runtime,
                heartbeat=heartbeat,
            )

        ref = self.h.system.spawn(make, name=f"{name}#{self._incarnations}")
        self.kubelets[name] = ref
        return ref


def bound_pod(
    name: str,
    node: str = "node-0",
    *,
    containers: list[Container] | None = None,
    init: list[Container] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default", annotations=annotations or {}),
        spec=PodSpec(
            containers=containers or [Container(name="app", image="busybox")],
            init_containers=init or [],
            node_name=node,
            **spec,
        ),
    )


async def wait_for_pod(
    h: Harness, name: str, predicate: Callable[[Pod], bool], *, timeout: float = 10.0
) -> Pod:
    """The pod `name` once `predicate` holds of it."""

    def holds(pods: list[Pod]) -> bool:
        return any(p.metadata.name == name and predicate(p) for p in pods)

    pods = await wait_for(h.client, Pod, holds, timeout=timeout)
    return next(p for p in pods if p.metadata.name == name and predicate(p))


async def wait_for_objects(
    h: Harness, kind: type[T], predicate: Callable[[list[T]], bool], *, timeout: float = 10.0
) -> list[T]:
    """Every object of `kind` once `predicate` holds of them (any kind, unlike `wait_for`)."""
    informer: Informer[T] = Informer(h.client, kind)
    reached = anyio.Event()

    async def check(_: list[Delta[T]]) -> None:
        if predicate(informer.items()):
            reached.set()

    informer.add_batch_handler(check)
    with anyio.fail_after(timeout):
        async with anyio.create_task_group() as group:
            group.start_soon(informer.run)
            await informer.wait_synced()
            if predicate(informer.items()):
                reached.set()
            await reached.wait()
            group.cancel_scope.cancel()
    return informer.items()


async def eventually(predicate: Callable[[], bool], *, timeout: float = 10.0) -> None:
    """Wait until `predicate` holds: for state that changes in the background, unannounced."""
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await anyio.sleep(0.01)
    raise AssertionError("the condition did not come true in time")


async def change_node(
    h: Harness, name: str, change: Callable[[Node], Node], *, status: bool = False
) -> Node:
    """Write `change` of the node `name` (its status subresource if `status`), read
    again on a conflict: its kubelet posts the node's status meanwhile, and a post
    stays uncommitted for the store's commit (milliseconds), so a new read waits
    a little first."""
    for _ in range(200):
        node = await h.client.get(Node, name)
        try:
            if status:
                return await h.client.update_status(change(node))
            return await h.client.update(change(node))
        except ApiError as error:
            if error.reason != "Conflict":
                raise
        await anyio.sleep(0.01)
    raise AssertionError(f"the node {name} could not be written: every update conflicted")


def replace_meta(pod: Pod, **changes: Any) -> Pod:
    return msgspec.structs.replace(pod, metadata=msgspec.structs.replace(pod.metadata, **changes))
