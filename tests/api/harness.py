"""A store and an API server on a temporary database, for tests of the layers above."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio

from kubeactors.actors import ActorSystem
from kubeactors.api import (
    ApiObject,
    ApiServer,
    Container,
    ObjectMeta,
    Pod,
    PodSpec,
    ResourceRequirements,
    UserInfo,
)
from kubeactors.client import Client, Delta, Informer
from kubeactors.store import Store, StoreOptions

R = TypeVar("R", bound=ApiObject)

FIXED_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ADMIN = UserInfo("admin", uid="admin", groups=("system:masters", "system:authenticated"))


@dataclass
class Harness:
    system: ActorSystem
    store: Store
    client: Client


@asynccontextmanager
async def running_api(
    path: Path,
    *,
    seed: int = 0,
    store_options: StoreOptions | None = None,
    **server_options: Any,
) -> AsyncIterator[Harness]:
    """A store and an API server; `server_options` go to `ApiServer` (`authorizer=`,
    `admission=`, `compat_updates=`...). The harness client is in `system:masters`."""
    async with ActorSystem(seed=seed) as system:
        options = store_options or StoreOptions(synchronous="OFF")
        store = Store.spawn(system.root, path / "store.db", options=options)
        api = system.spawn(
            lambda: ApiServer(store.ref, wall_clock=lambda: FIXED_TIME, **server_options),
            name="apiserver",
            mailbox_size=ApiServer.mailbox_size,
        )
        yield Harness(system, store, Client(api, timeout=10.0, user=ADMIN))


def make_pod(name: str = "", *, cpu: str = "100m", memory: str = "64Mi", **meta: str) -> Pod:
    requests = {"cpu": cpu, "memory": memory}
    container = Container(
        name="app", image="busybox", resources=ResourceRequirements(requests=requests)
    )
    return Pod(
        metadata=ObjectMeta(name=name, **meta),  # type: ignore[arg-type]
        spec=PodSpec(containers=[container]),
    )


async def wait_for(
    client: Client,
    kind: type[R],
    predicate: Callable[[list[R]], bool],
    *,
    timeout: float = 10.0,
) -> list[R]:
    """Wait until `predicate` holds of every object of `kind`; returns those objects."""
    informer: Informer[R] = Informer(client, kind)
    reached = anyio.Event()

    async def check(_: list[Delta[R]]) -> None:
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
