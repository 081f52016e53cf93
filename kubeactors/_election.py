"""Leader election through a Lease, as upstream's `leaderelection` package: a component
that must act once per cluster (the scheduler) runs only in the process holding the
Lease, however many processes run it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import msgspec

from .actors import Actor, ActorRef, Supervisor
from .api import ApiError, Lease, LeaseSpec, ObjectMeta, parse_time
from .client import ApiClient

__all__ = ["LeaderElection", "LeaderElector", "acquire_or_renew"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaderElection:
    """Who this process is (`identity`, unique per process) and upstream's timings."""

    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not self.identity:
            raise ValueError("leader election needs an identity")
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError(
                "need 0 < retry_period < renew_deadline < lease_duration, got "
                f"{self.retry_period}, {self.renew_deadline}, {self.lease_duration}"
            )


def _micro_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _whole_seconds(election: LeaderElection) -> int | None:
    """The Lease's `leaseDurationSeconds`: whole seconds, or unset for a duration under
    one second (the API refuses 0; a reader of an unset one goes by its own)."""
    return int(election.lease_duration) or None


async def acquire_or_renew(
    client: ApiClient, name: str, namespace: str, election: LeaderElection, now: datetime
) -> bool:
    """Take or renew the Lease `namespace/name` for `election.identity`; False when
    another holder renewed it within its duration (or on any API failure)."""
    stamp = _micro_time(now)
    try:
        lease = await client.get(Lease, name, namespace)
    except ApiError as error:
        if error.code != 404:
            return False
        try:
            await client.create(
                Lease(
                    metadata=ObjectMeta(name=name, namespace=namespace),
                    spec=LeaseSpec(
                        holder_identity=election.identity,
                        lease_duration_seconds=_whole_seconds(election),
                        acquire_time=stamp,
                        renew_time=stamp,
                        lease_transitions=0,
                    ),
                )
            )
        except ApiError:
            return False
        return True
    spec = lease.spec
    mine = spec.holder_identity == election.identity
    if not mine:
        renewed = parse_time(spec.renew_time)
        duration = spec.lease_duration_seconds or election.lease_duration
        if renewed is not None and now - renewed < timedelta(seconds=duration):
            return False  # someone else holds it and is alive
    new_spec = msgspec.structs.replace(
        spec,
        holder_identity=election.identity,
        lease_duration_seconds=_whole_seconds(election),
        renew_time=stamp,
        acquire_time=spec.acquire_time if mine else stamp,
        lease_transitions=(spec.lease_transitions or 0) + (0 if mine else 1),
    )
    try:
        await client.update(msgspec.structs.replace(lease, spec=new_spec))
    except ApiError:
        return False
    return True


class _Elect(msgspec.Struct, frozen=True):
    pass


class LeaderElector(Actor[_Elect]):
    """Runs the actor `spawn(supervisor)` makes while this process holds the Lease
    `namespace/name`; a holder that cannot renew within `renew_deadline` stops it at
    once, before another may take over (the Lease must first go `lease_duration`
    unrenewed), so two never act together. `on_change(ref)` hears of each start
    (the running actor) and stop (None)."""

    def __init__(
        self,
        client: ApiClient,
        supervisor: Supervisor,
        spawn: Callable[[Supervisor], ActorRef[Any]],
        election: LeaderElection,
        *,
        name: str,
        namespace: str = "kube-system",
        on_change: Callable[[ActorRef[Any] | None], None] | None = None,
    ) -> None:
        self._client = client
        self._supervisor = supervisor
        self._spawn = spawn
        self._election = election
        self._name = name
        self._namespace = namespace
        self._on_change = on_change
        self._running: ActorRef[Any] | None = None
        self._renewed_at: float | None = None

    async def on_start(self) -> None:
        await self._elect()
        self.context.send_every(self._election.retry_period, _Elect())

    async def on_stop(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            # Without waiting: at shutdown the supervisor may already be gone.
            with anyio.CancelScope() as scope:
                scope.cancel()
                await running.stop()

    async def receive(self, message: _Elect) -> None:
        await self._elect()

    async def _elect(self) -> None:
        clock = self.context.clock
        held = await acquire_or_renew(
            self._client, self._name, self._namespace, self._election, clock.wall()
        )
        now = clock.now()
        if held:
            self._renewed_at = now
            if self._running is None:
                logger.info("%s leads %s; starting", self._election.identity, self._name)
                self._running = self._spawn(self._supervisor)
                if self._on_change is not None:
                    self._on_change(self._running)
        elif self._running is not None and (
            self._renewed_at is None or now - self._renewed_at > self._election.renew_deadline
        ):
            logger.warning("%s lost %s; stopping", self._election.identity, self._name)
            running, self._running = self._running, None
            await running.stop()
            if self._on_change is not None:
                self._on_change(None)
