"""Node heartbeats for every kubelet of the process, from one shared timer.

Each node renews its Lease in `kube-node-lease` every `lease_seconds` and posts its
full status every `status_seconds`. Thousands of idle kubelets would each need a
timer; here one actor ticks a few times per interval and serves one slice of the
nodes per tick, so renewals are spread evenly and an idle kubelet costs nothing.
With in-process clients, a slice's renewals go to the API server in one message
(`Client.send_batch`), each still its own update by its own node, and their answers
come back in one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from ..actors import Actor, ActorRef
from ..api import ApiError, Lease, LeaseSpec, Node, ObjectMeta
from ..client import ApiClient, Client
from ._heartbeat_messages import Track, Untrack, _Answered, _Lost, _Renewed, _Tick
from ._messages import ReportNodeStatus

__all__ = ["LEASE_NAMESPACE", "HeartbeatHub", "HeartbeatMessage", "Track", "Untrack"]

logger = logging.getLogger(__name__)

replace = msgspec.structs.replace

LEASE_NAMESPACE = "kube-node-lease"


HeartbeatMessage = Track | Untrack | _Tick | _Renewed | _Lost | _Answered


class _Entry:
    __slots__ = (
        "batcher",
        "client",
        "item",
        "kubelet",
        "lease",
        "slot",
        "status",
        "status_item",
        "version",
    )

    def __init__(
        self,
        kubelet: ActorRef[Any],
        slot: int,
        client: ApiClient,
        lease: Lease,
        status: Callable[[], Node | None] | None,
    ) -> None:
        self.kubelet = kubelet
        self.status = status
        self.slot = slot
        self.client = client
        # An in-process client: its renewals go to its API server in batches, each
        # a copy of `item` (the update as this node's client makes it) with the Lease,
        # and so do its status posts, copies of `status_item` with the Node.
        self.batcher = client if isinstance(client, Client) else None
        self.item = self.status_item = None
        if self.batcher is not None:
            self.item = self.batcher.batch_item(lease)
            self.status_item = self.batcher.batch_item(lease, subresource="status")
        self.version = ""
        # The node's Lease as last sent or as stored by the last renewal: the next
        # renewal is a copy with a new renew time (and version, if it changed since).
        self.lease = lease


class HeartbeatHub(Actor[HeartbeatMessage]):
    """Renews each tracked node's Lease and asks each kubelet for its status, in slices.

    `client_for(node)` is the client a node's Lease is written with (each node's own
    identity, as its kubelet would); by default `client` for all.
    """

    mailbox_size = 8192

    def __init__(
        self,
        client: ApiClient,
        *,
        wall_clock: Callable[[], datetime],
        lease_seconds: float = 10.0,
        lease_duration_seconds: int = 40,
        status_seconds: float = 60.0,
        slots: int = 10,
        client_for: Callable[[str], ApiClient] | None = None,
    ) -> None:
        if not lease_seconds > 0 or not status_seconds > 0 or slots < 1:
            raise ValueError(
                "heartbeat: lease_seconds and status_seconds must be positive and slots >= 1"
            )
        self._client = client
        self._client_for = client_for
        self._wall_clock = wall_clock
        self._lease_seconds = lease_seconds
        self._duration = lease_duration_seconds
        self._slots = slots
        # Status is posted every `status_every` lease rounds (at least one).
        self._status_every = max(1, round(status_seconds / lease_seconds))
        self._entries: dict[str, _Entry] = {}
        self._by_slot: list[set[str]] = [set() for _ in range(slots)]
        # Each slot's nodes in name order (a set of strings iterates in an order that
        # changes per process), sorted again only after a node joins or leaves it.
        self._ordered: list[list[str] | None] = [None] * slots
        self._next_slot = 0
        self._tick = 0
        self._stamped: tuple[datetime | None, str] = (None, "")

    async def on_start(self) -> None:
        self.context.send_every(self._lease_seconds / self._slots, _Tick())

    async def receive(self, message: HeartbeatMessage) -> None:
        match message:
            case Track(node=node, kubelet=kubelet, status=status):
                old = self._entries.pop(node, None)
                if old is not None:
                    self._leave(node, old.slot)
                slot = self._next_slot
                self._next_slot = (slot + 1) % self._slots
                client = self._client_for(node) if self._client_for else self._client
                lease = self._lease(node, "", "")
                self._entries[node] = _Entry(kubelet, slot, client, lease, status)
                self._by_slot[slot].add(node)
                self._ordered[slot] = None
                await self._renew(node, self._entries[node])
            case Untrack(node=node):
                entry = self._entries.pop(node, None)
                if entry is not None:
                    self._leave(node, entry.slot)
            case _Tick():
                await self._on_tick()
            case _Renewed(node=node, resource_version=version):
                entry = self._entries.get(node)
                if entry is not None:
                    entry.version = version
            case _Lost(node=node):
                await self._relearn(node)
            case _Answered(nodes=nodes, answers=answers):
                for node, answer in zip(nodes, answers, strict=True):
                    if isinstance(answer, Lease):
                        entry = self._entries.get(node)
                        if entry is not None:
                            entry.version = answer.metadata.resource_version
                            # The next renewal is a copy of the Lease as stored, as
                            # upstream's kubelet renews the Lease it got back.
                            entry.lease = answer
                    elif _lost(answer):
                        await self._relearn(node)
                    else:
                        logger.info("renewing the lease of %s failed: %s", node, answer)

    def _leave(self, node: str, slot: int) -> None:
        self._by_slot[slot].discard(node)
        self._ordered[slot] = None

    async def _relearn(self, node: str) -> None:
        entry = self._entries.get(node)
        if entry is not None:
            try:
                lease = await entry.client.get(Lease, node, LEASE_NAMESPACE)
            except ApiError:
                entry.version = ""
            else:
                entry.version = lease.metadata.resource_version
                # Renewed from the Lease as stored (its identity, should it have been
                # made anew), held again by this node, as upstream's kubelet does.
                spec = replace(
                    lease.spec, holder_identity=node, lease_duration_seconds=self._duration
                )
                entry.lease = replace(lease, spec=spec)

    async def _on_tick(self) -> None:
        slot = self._tick % self._slots
        status_round = (self._tick // self._slots) % self._status_every == 0
        self._tick += 1
        batch: list[Any] = []
        batched: list[str] = []
        sender: Client | None = None
        sender_api: Any = None  # the API server of `sender`, read once per tick
        posts: list[Any] = []
        posted: list[str] = []
        poster: Client | None = None
        poster_api: Any = None
        stamp = self._stamp()  # every lease of a tick is renewed at the same moment
        ordered = self._ordered[slot]
        if ordered is None:
            ordered = self._ordered[slot] = sorted(self._by_slot[slot])
        entries = self._entries
        for node in ordered:
            entry = entries[node]
            client = entry.batcher
            if (
                entry.version
                and client is not None
                and (sender is None or client.api is sender_api)
            ):
                if sender is None:
                    sender, sender_api = client, client.api
                lease = entry.lease
                if lease.metadata.resource_version != entry.version:
                    lease = replace(
                        lease, metadata=replace(lease.metadata, resource_version=entry.version)
                    )
                lease = entry.lease = replace(lease, spec=replace(lease.spec, renew_time=stamp))
                item = entry.item
                assert item is not None  # made with `batcher`
                batch.append(replace(item, obj=lease))
                batched.append(node)
            else:
                await self._renew(node, entry)
            if status_round:
                status = entry.status
                if (
                    status is not None
                    and client is not None
                    and (poster is None or client.api is poster_api)
                ):
                    if poster is None:
                        poster, poster_api = client, client.api
                    node_object = status()
                    if node_object is not None:
                        item = entry.status_item
                        assert item is not None  # made with `batcher`
                        posts.append(replace(item, obj=node_object))
                        posted.append(node)
                else:
                    entry.kubelet.try_tell(ReportNodeStatus())
        if sender is not None:
            await self._renew_batch(sender, batch, batched)
        if poster is not None and posts:
            await self._post_batch(poster, posts, posted)

    async def _renew_batch(self, sender: Client, batch: list[Any], nodes: list[str]) -> None:
        me = self.context.self

        def answered(answers: list[Any] | None, error: BaseException | None) -> None:
            if answers is not None:
                me.try_tell(_Answered(nodes, answers))
            else:
                logger.info("renewing %d leases failed: %s", len(nodes), error)
                for node in nodes:
                    me.try_tell(_Lost(node))

        await sender.send_batch(batch, answered)

    async def _post_batch(self, poster: Client, posts: list[Any], nodes: list[str]) -> None:
        """Send the status posts of a tick in one batch; a failure is only logged, as
        a kubelet's own post's is (the next one comes a status period later)."""

        def answered(answers: list[Any] | None, error: BaseException | None) -> None:
            if answers is None:
                logger.info("posting the status of %d nodes failed: %s", len(nodes), error)
                return
            for node, answer in zip(nodes, answers, strict=True):
                if not isinstance(answer, Node):
                    logger.info("posting the status of %s failed: %s", node, answer)

        await poster.send_batch(posts, answered)

    def _stamp(self) -> str:
        """The wall time as a Lease's MicroTime (microseconds, UTC), formatted once per
        value: every lease a tick renews is renewed at the same moment."""
        moment = self._wall_clock()
        if moment != self._stamped[0]:
            text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self._stamped = (moment, text)
        return self._stamped[1]

    def _lease(self, node: str, version: str, stamp: str) -> Lease:
        return Lease(
            metadata=ObjectMeta(name=node, namespace=LEASE_NAMESPACE, resource_version=version),
            spec=LeaseSpec(
                holder_identity=node,
                lease_duration_seconds=self._duration,
                renew_time=stamp,
            ),
        )

    async def _renew(self, node: str, entry: _Entry) -> None:
        me = self.context.self

        def answered(lease: Lease | None, error: BaseException | None) -> None:
            if lease is not None:
                me.try_tell(_Renewed(node, lease.metadata.resource_version))
            elif _lost(error):
                me.try_tell(_Lost(node))
            else:
                logger.info("renewing the lease of %s failed: %s", node, error)

        lease = self._lease(node, entry.version, self._stamp())
        client = entry.client
        if entry.version:
            await client.send_update(lease, answered)
            return

        async def create() -> None:
            try:
                created = await client.create(lease)
            except ApiError as error:
                answered(None, error)
            else:
                answered(created, None)

        self.context.start_soon(create)


def _lost(error: object) -> bool:
    """Whether a renewal failed for not knowing the Lease's current version."""
    return isinstance(error, ApiError) and error.reason in ("AlreadyExists", "Conflict")
