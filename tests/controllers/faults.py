"""Clients for controller tests: one whose writes fail at random, one whose watches lag."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import msgspec

from kubeactors.actors import ActorRef
from kubeactors.api import (
    ApiError,
    ApiObject,
    ApiWatch,
    Pod,
    PodCondition,
    PodStatus,
    Status,
    WatchEvent,
)
from kubeactors.client import Client, Delta, Informer
from kubeactors.controllers import ControllerStatus, Inspect

STAMP = "2026-01-01T00:00:00Z"

R = TypeVar("R", bound=ApiObject)


class FaultyClient(Client):
    """Fails a share of writes before sending them (conflict or server timeout), and
    delivers watch batches late and with different keys' events reordered."""

    def __init__(
        self, inner: Client, *, seed: int, fail_rate: float = 0.2, max_lag: float = 0.05
    ) -> None:
        super().__init__(inner.api, timeout=10.0)
        self._random = random.Random(seed)
        self._fail_rate = fail_rate
        self._max_lag = max_lag
        self.injected = 0

    def _maybe_fail(self, obj_name: str) -> None:
        if self._random.random() < self._fail_rate:
            self.injected += 1
            if self._random.random() < 0.5:
                raise ApiError.conflict("objects", obj_name)
            raise ApiError(Status(message="timeout", reason="Timeout", code=504))

    async def create(self, obj: R) -> R:
        self._maybe_fail(obj.metadata.name)
        return await super().create(obj)

    async def update(self, obj: R) -> R:
        self._maybe_fail(obj.metadata.name)
        return await super().update(obj)

    async def delete(self, kind: type[R], name: str, namespace: str = "", **options: Any) -> R:
        self._maybe_fail(name)
        return await super().delete(kind, name, namespace, **options)

    async def watch(
        self,
        kind: type[R],
        namespace: str = "",
        resource_version: str = "",
        **options: Any,
    ) -> ApiWatch[R]:
        inner = await super().watch(kind, namespace, resource_version, **options)
        lagging: Any = _LaggingWatch(inner, self._random, self._max_lag)
        return lagging  # type: ignore[no-any-return]


class _LaggingWatch:
    def __init__(self, inner: ApiWatch[Any], rng: random.Random, max_lag: float) -> None:
        self._inner = inner
        self._random = rng
        self._max_lag = max_lag

    def __aiter__(self) -> AsyncIterator[list[WatchEvent[Any]]]:
        return self._lagging()

    async def _lagging(self) -> AsyncIterator[list[WatchEvent[Any]]]:
        async for batch in self._inner:
            await anyio.sleep(self._random.random() * self._max_lag)
            yield _shuffle_keys(batch, self._random)

    def close(self) -> None:
        self._inner.close()


def _shuffle_keys(batch: list[WatchEvent[Any]], rng: random.Random) -> list[WatchEvent[Any]]:
    """Reorder events of different objects; one object's events keep their order."""
    by_key: dict[str, list[WatchEvent[Any]]] = {}
    for event in batch:
        by_key.setdefault(event.object.metadata.name, []).append(event)
    groups = list(by_key.values())
    rng.shuffle(groups)
    return [event for group in groups for event in group]


async def watch_max(
    client: Client, kind: type[R], measure: Callable[[Informer[R]], int]
) -> tuple[Informer[R], list[int]]:
    """An informer whose every batch records `measure(informer)` into the returned list."""
    informer: Informer[R] = Informer(client, kind)
    seen: list[int] = [0]

    async def record(_: list[Delta[R]]) -> None:
        seen.append(measure(informer))

    informer.add_batch_handler(record)
    return informer, seen


@asynccontextmanager
async def running_informer(informer: Informer[Any]) -> AsyncIterator[None]:
    async with anyio.create_task_group() as group:
        group.start_soon(informer.run)
        await informer.wait_synced()
        yield
        group.cancel_scope.cancel()


async def wait_for(
    client: Client,
    kind: type[R],
    predicate: Callable[[list[R]], bool],
    *,
    timeout: float = 10.0,
) -> list[R]:
    """Wait until `predicate` holds of every object of `kind` (any kind); returns them."""
    informer: Informer[R] = Informer(client, kind)
    reached = anyio.Event()

    async def check(_: list[Delta[R]]) -> None:
        if predicate(informer.items()):
            reached.set()

    informer.add_batch_handler(check)
    with anyio.fail_after(timeout):
        async with running_informer(informer):
            if predicate(informer.items()):
                reached.set()
            await reached.wait()
    return informer.items()


async def wait_status(
    ref: ActorRef[Any], predicate: Callable[[ControllerStatus], bool], *, timeout: float = 30.0
) -> ControllerStatus:
    """Poll a controller's counters until `predicate` holds (they change on no event)."""
    with anyio.fail_after(timeout):
        while True:
            status: ControllerStatus = await ref.ask(Inspect)
            if predicate(status):
                return status
            await anyio.sleep(0.02)


@asynccontextmanager
async def pods_become_ready(client: Client, *, node: str = "n1") -> AsyncIterator[None]:
    """Stand in for kubelets: every pod is bound to `node`, Running and Ready at once."""
    informer: Informer[Pod] = Informer(client, Pod)

    async def promote(deltas: list[Delta[Pod]]) -> None:
        for delta in deltas:
            pod = delta.object
            if delta.type == "DELETED" or pod.status.phase == "Running":
                continue
            ready = PodCondition(type="Ready", status="True", last_transition_time=STAMP)
            promoted = msgspec.structs.replace(
                pod,
                spec=msgspec.structs.replace(pod.spec, node_name=node),
                status=PodStatus(phase="Running", conditions=[ready]),
            )
            with contextlib.suppress(ApiError):  # changed or gone: a later event comes
                await client.update(promoted)

    informer.add_batch_handler(promote)
    async with running_informer(informer):
        await promote([Delta("ADDED", pod) for pod in informer.items()])
        yield
