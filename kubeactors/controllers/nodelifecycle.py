"""The node lifecycle controller: notices nodes that stop answering and moves their pods.

Every `monitor_period` it looks at each node from its caches. A node whose Lease (in
`kube-node-lease`) and Ready condition have not changed for `grace_period` seconds of
this controller's clock gets every condition set to Unknown. A node that is not Ready
is queued for a NoExecute taint (`node.kubernetes.io/unreachable` for Unknown,
`node.kubernetes.io/not-ready` for False); the queues, one per zone, release nodes at
the rates of `_zones.py`; the taint eviction controller (`tainteviction.py`) then
deletes the pods whose tolerations run out. A node that is Ready again loses both
taints at once.

Upstream looks at every node on every pass; at thousands of nodes that pass is most of
the controller's time, and nearly all of it finds nothing to do. Here a pass looks
only at the nodes where something may have happened since the last one (their Node or
Lease changed, their grace period ran out, a write for them was tried, their zone's
queue released them), in the informer's order and without walking the others, and
reuses what it found for the rest, with the same writes, in the same order, as the
full pass (`NodeLifecycleSettings.full_scan`, kept as the reference the tests compare
against).
"""

from __future__ import annotations

import itertools
import logging
import operator
from dataclasses import dataclass
from typing import cast

import msgspec

from .._mypyc import mypyc_attr
from ..api import ApiError, Lease, Node, NodeCondition, Taint
from ..client import Client, Informer
from ._base import Controller
from ._monitor import _Monitor
from ._taints import NOT_READY, UNREACHABLE
from ._time import format_time
from ._zones import ZoneQueue, ZoneState, zone_rate, zone_state

__all__ = ["LEASE_NAMESPACE", "NodeLifecycleController", "NodeLifecycleSettings"]

logger = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-node-lease"
_ZONE_LABEL = "topology.kubernetes.io/zone"
_REGION_LABEL = "topology.kubernetes.io/region"
_NODE_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


@dataclass(frozen=True)
class NodeLifecycleSettings:
    """Upstream's kube-controller-manager flags, with their defaults."""

    grace_period: float = 40.0
    """--node-monitor-grace-period: silence after which a node is Unknown."""
    monitor_period: float = 5.0
    """--node-monitor-period."""
    eviction_qps: float = 0.1
    """--node-eviction-rate: nodes tainted per second per healthy zone."""
    secondary_eviction_qps: float = 0.01
    """--secondary-node-eviction-rate: for large, partially disrupted zones."""
    large_cluster_threshold: int = 50
    """--large-cluster-size-threshold."""
    unhealthy_zone_threshold: float = 0.55
    """--unhealthy-zone-threshold."""
    default_toleration_seconds: int | None = 300
    """DefaultTolerationSeconds admission's value, applied to pods that lack one (used
    by the taint eviction controller)."""
    require_lease: bool = True
    """Judge only nodes that have a Lease: a node whose kubelet never heartbeats (a
    simulated node without a heartbeat hub) is not declared dead for its silence."""
    full_scan: bool = False
    """Look at every node on every pass, as upstream; by default a pass looks only at
    the nodes where something may have changed, with the same outcome."""

    def __post_init__(self) -> None:
        for name in ("grace_period", "monitor_period"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("eviction_qps", "secondary_eviction_qps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0 < self.unhealthy_zone_threshold <= 1:
            raise ValueError(
                f"unhealthy_zone_threshold must be in (0, 1], got {self.unhealthy_zone_threshold}"
            )


_first = operator.itemgetter(0)

_Probe = tuple[str | None, str | None, float]
"""A node's Lease renewTime and Ready condition's lastHeartbeatTime, and the time
this controller first saw that pair."""


def _ready_status(node: Node) -> str:
    """The Ready condition's status; "" if the node never posted one (not judged yet)."""
    for condition in node.status.conditions:
        if condition.type == "Ready":
            return condition.status
    return ""


def _zone(node: Node) -> str:
    labels = node.metadata.labels
    return f"{labels.get(_REGION_LABEL, '')}:{labels.get(_ZONE_LABEL, '')}"


@mypyc_attr(allow_interpreted_subclasses=True)
class NodeLifecycleController(Controller):
    name = "nodelifecycle"
    workers = 1

    def __init__(self, client: Client, settings: NodeLifecycleSettings | None = None) -> None:
        super().__init__(client)
        self.settings = settings or NodeLifecycleSettings()
        self._probes: dict[str, _Probe] = {}
        self._zones: dict[str, ZoneQueue] = {}
        self.zone_states: dict[str, ZoneState] = {}
        # What the incremental pass knows between passes (dicts, not sets: a set of
        # strings iterates in an order that changes per process).
        self._changed: dict[str, None] = {}
        """Nodes to look at whole: their Node changed, or a write for them was tried."""
        self._renewed: dict[str, Lease | None] = {}
        """Nodes whose Lease changed, with the Lease as cached now (None: deleted):
        their health to look at."""
        self._expired: dict[str, None] = {}
        """Nodes silent for longer than the grace period (looked at whole every pass)."""
        self._deadlines: dict[float, list[str]] = {}
        """Nodes by the time a heartbeat of theirs was seen, each node once, earliest
        time first: no node falls silent before its time plus the grace period. A node
        that beat again since moves on to its newer time's list when its time comes
        up, not for every heartbeat. Heartbeats are seen at a pass's time, the latest
        yet, so times come in order and a dict keeps them so; every time a heartbeat
        was seen at has its list (`_waiting`), where a node moving on finds it. (A heap
        of (time, node) cost a sift of about 5,000 instructions a move.)"""
        self._scheduled: set[str] = set()
        """The nodes with an entry in `_deadlines`."""
        self._summary: dict[str, tuple[str, str]] = {}
        """Each node's zone and Ready status as last looked at."""
        self._counts: dict[str, list[int]] | None = None
        self._writes = 0
        self._ready_beats: dict[str, tuple[Node, str | None]] = {}
        """Each node's Ready heartbeat, with the Node object it was read from."""
        self._order: dict[str, int] = {}
        """Each cached node's place in the informer's order (a node added again after
        its deletion goes last, as in the informer's dict)."""
        self._places = itertools.count()

    def setup(self) -> None:
        self.nodes: Informer[Node] = self.informer(Node)
        self.leases: Informer[Lease] = self.informer(Lease, LEASE_NAMESPACE)
        self.nodes.add_handler(
            on_add=self._node_added,
            on_update=self._node_changed,
            on_delete=self._node_deleted,
        )
        self.leases.add_handler(
            on_add=self._lease_added,
            on_update=self._lease_changed,
            on_delete=self._lease_deleted,
        )
        self.context.send_every(self.settings.monitor_period, _Monitor())

    def _node_added(self, node: Node) -> None:
        self._order[node.metadata.name] = next(self._places)
        self._changed[node.metadata.name] = None

    def _node_changed(self, _: Node, node: Node) -> None:
        self._changed[node.metadata.name] = None

    def _lease_added(self, lease: Lease) -> None:
        self._renewed[lease.metadata.name] = lease

    def _lease_changed(self, _: Lease, lease: Lease) -> None:
        # The informer calls its handlers in the order of its cache's changes, so the
        # Lease kept here is the one its cache holds when the pass comes.
        self._renewed[lease.metadata.name] = lease

    def _lease_deleted(self, lease: Lease) -> None:
        self._renewed[lease.metadata.name] = None

    def _node_deleted(self, node: Node) -> None:
        name = node.metadata.name
        self._order.pop(name, None)
        self._probes.pop(name, None)
        self._ready_beats.pop(name, None)
        self._expired.pop(name, None)
        if self._summary.pop(name, None) is not None:
            self._counts = None
        for queue in self._zones.values():
            queue.remove(name)

    async def tick(self, message: object) -> None:
        if isinstance(message, _Monitor) and self.synced:
            await self.monitor()

    # -- one pass -------------------------------------------------------------------

    async def monitor(self) -> None:
        now = self.context.clock.now()
        if self.settings.full_scan:
            counts = await self._full_pass(now)
        else:
            counts = await self._pass(now)
        self._set_zone_rates(counts)
        for zone, queue in self._zones.items():
            for name in queue.take(now):
                self._changed[name] = None
                waiting = self.nodes.get(name)
                if waiting is not None:
                    await self._taint(waiting)
                logger.info("zone %s: node %s tainted", zone, name)

    async def _full_pass(self, now: float) -> dict[str, list[int]]:
        """Every node looked at: upstream's pass, the reference for `_pass`."""
        counts: dict[str, list[int]] = {}
        for node in self.nodes.items():
            node = await self._check_health(node, now)
            ready = _ready_status(node)
            zone = _zone(node)
            counts.setdefault(zone, [0, 0])[0 if ready == "True" else 1] += 1
            await self._reconcile_taints(node, ready, zone)
        return counts

    async def _pass(self, now: float) -> dict[str, list[int]]:
        """The full pass's writes, in its order, looking only where they can arise.

        A node left out has the Node object it had when last looked at whole, no
        write tried for it since, and its grace period not run out: the full pass
        would find its health unchanged and its taints as they should be, and count
        it as before. A node whose Lease alone changed needs only its heartbeat
        noted (`_note_renewals`), unless that leads to a write. The nodes looked at
        are taken in the informer's order (`_order`), as the full pass meets them.
        """
        look = self._due(now)
        renewed, self._renewed = self._renewed, {}
        silent = self._note_renewals(renewed, look, now)
        for node in self._in_order(look, silent):
            name = node.metadata.name
            writes = self._writes
            if name in silent or self._falls_silent(node, now):
                node = await self._mark_unknown(node)
            ready = _ready_status(node)
            zone = _zone(node)
            if self._summary.get(name) != (zone, ready):
                self._summary[name] = (zone, ready)
                self._counts = None
            if not self._taints_settled(node, ready, zone):
                await self._reconcile_taints(node, ready, zone)
            if self._writes != writes:
                self._changed[name] = None
        if self._counts is None:
            self._counts = self._count(self.nodes.items())
        return self._counts

    def _note_renewals(
        self, renewed: dict[str, Lease | None], look: dict[str, None], now: float
    ) -> dict[str, None]:
        """Note the heartbeat of each node whose Lease alone changed; those that fall
        silent (none in fact: a node silent for its grace period is in `look`).

        Most of a pass's nodes come here, a Lease renewed since the last pass and the
        Node object the same; their heartbeats are noted before the pass's first
        write (the full pass notes each when it meets it, which differs only if a
        Lease changes while a write is awaited: a heartbeat noted one pass later).
        """
        # `_falls_silent` and `_note` inline, with the Lease the handler kept: a pass
        # meets thousands of renewals, most a new heartbeat to note and nothing else.
        # The cache as the dict it is (read only here): a dict's look-up is direct
        # where a Mapping's `get` is a method call.
        nodes = cast("dict[str, Node]", self.nodes.cache)
        probes, ready_beats = self._probes, self._ready_beats
        expired, scheduled = self._expired, self._scheduled
        waiting = self._waiting(now)
        require_lease = self.settings.require_lease
        grace = self.settings.grace_period
        silent: dict[str, None] = {}
        for name, lease in renewed.items():
            if name in look:
                continue
            node = nodes.get(name)
            if node is None:
                continue
            if lease is not None:
                renew = lease.spec.renew_time
            elif require_lease:
                continue
            else:
                renew = None
            seen = ready_beats.get(name)
            beat = seen[1] if seen is not None and seen[0] is node else self._ready_beat(node)
            probe = probes.get(name)
            if probe is None or probe[0] != renew or probe[1] != beat:
                probes[name] = (renew, beat, now)
                # `look` holds the expired nodes, so none is found here: a test, not a
                # call of pop per renewal.
                if name in expired:
                    del expired[name]
                if name not in scheduled:
                    scheduled.add(name)
                    waiting.append(name)
            elif now - probe[2] > grace and _ready_status(node) != "Unknown":
                silent[name] = None
        return silent

    def _in_order(self, *groups: dict[str, None]) -> list[Node]:
        """The cached nodes named in `groups`, in the informer's order."""
        get, order = self.nodes.get, self._order
        found: list[tuple[int, Node]] = []
        for group in groups:
            for name in group:
                node = get(name)
                if node is not None:
                    position = order.get(name)
                    if position is None:
                        # Not announced to the handlers yet: the informer's own order.
                        wanted = {name for group in groups for name in group}
                        return [n for n in self.nodes.items() if n.metadata.name in wanted]
                    found.append((position, node))
        found.sort(key=_first)
        return [node for _, node in found]

    def _due(self, now: float) -> dict[str, None]:
        """The nodes to look at whole this pass (and from now on, those gone silent)."""
        look, self._changed = self._changed, {}
        deadlines, grace = self._deadlines, self.settings.grace_period
        probes, scheduled, expired = self._probes, self._scheduled, self._expired
        while deadlines:
            since = next(iter(deadlines))
            if now - since <= grace:
                break
            for name in deadlines.pop(since):
                probe = probes.get(name)
                if probe is not None and probe[2] != since:
                    # It beat again since: it moves on to that later time's list.
                    deadlines[probe[2]].append(name)
                    continue
                scheduled.discard(name)
                if probe is not None:
                    expired[name] = None
        look.update(expired)
        return look

    def _waiting(self, now: float) -> list[str]:
        """The nodes whose heartbeat was last seen at `now` (a list made at the first
        heartbeat seen then: see `_deadlines`)."""
        waiting = self._deadlines.get(now)
        if waiting is None:
            waiting = self._deadlines[now] = []
        return waiting

    def _count(self, nodes: list[Node]) -> dict[str, list[int]]:
        """Ready and not-ready nodes per zone, in the order the full pass finds them."""
        counts: dict[str, list[int]] = {}
        summary = self._summary
        for node in nodes:
            seen = summary.get(node.metadata.name)
            zone, ready = seen if seen is not None else (_zone(node), _ready_status(node))
            counts.setdefault(zone, [0, 0])[0 if ready == "True" else 1] += 1
        return counts

    def _ready_beat(self, node: Node) -> str | None:
        """The Ready condition's heartbeat, read once per Node object: a lease is
        renewed six times for each status a kubelet posts, so the Node object is
        mostly the one seen last time."""
        name = node.metadata.name
        seen = self._ready_beats.get(name)
        if seen is not None and seen[0] is node:
            return seen[1]
        beat = None
        for condition in node.status.conditions:
            if condition.type == "Ready":
                beat = condition.last_heartbeat_time
                break
        self._ready_beats[name] = (node, beat)
        return beat

    async def _check_health(self, node: Node, now: float) -> Node:
        if self._falls_silent(node, now):
            return await self._mark_unknown(node)
        return node

    def _falls_silent(self, node: Node, now: float) -> bool:
        """Note the node's heartbeat; whether it is to be marked Unknown now (silent
        for longer than the grace period, and not Unknown yet)."""
        name = node.metadata.name
        lease = self.leases.get(LEASE_NAMESPACE + "/" + name)
        settings = self.settings
        if lease is None and settings.require_lease:
            return False
        renew = lease.spec.renew_time if lease is not None else None
        beat = self._ready_beat(node)
        probe = self._probes.get(name)
        if probe is None or probe[0] != renew or probe[1] != beat:
            self._note(name, renew, beat, now)
            return False
        if now - probe[2] <= settings.grace_period:
            return False
        return _ready_status(node) != "Unknown"

    def _note(self, name: str, renew: str | None, beat: str | None, now: float) -> None:
        """A new heartbeat of `name`, seen `now`: its grace period starts again."""
        self._probes[name] = (renew, beat, now)
        if not self.settings.full_scan:
            if self._expired:
                self._expired.pop(name, None)
            waiting = self._waiting(now)
            if name not in self._scheduled:
                self._scheduled.add(name)
                waiting.append(name)

    async def _mark_unknown(self, node: Node) -> Node:
        stamp = format_time(self.context.clock.wall())
        present = {c.type for c in node.status.conditions}
        conditions = [
            msgspec.structs.replace(
                c,
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
                last_transition_time=stamp if c.status != "Unknown" else c.last_transition_time,
            )
            if c.type in _NODE_CONDITIONS
            else c
            for c in node.status.conditions
        ]
        if "Ready" not in present:
            conditions.append(
                NodeCondition(
                    type="Ready",
                    status="Unknown",
                    reason="NodeStatusNeverUpdated",
                    message="Kubelet never posted node status.",
                    last_transition_time=stamp,
                )
            )
        status = msgspec.structs.replace(node.status, conditions=conditions)
        updated = msgspec.structs.replace(node, status=status)
        self._writes += 1
        try:
            stored = await self.write_status(updated)
        except ApiError as error:
            logger.debug("node %s: cannot mark Unknown yet: %s", node.metadata.name, error)
            return node
        logger.info(
            "node %s: no heartbeat for %.1f s, Ready=Unknown",
            node.metadata.name,
            self.settings.grace_period,
        )
        # Our own write changes the Ready heartbeat string only if the kubelet's did.
        name = node.metadata.name
        lease = self.leases.get(f"{LEASE_NAMESPACE}/{name}")
        self._probes[name] = (
            lease.spec.renew_time if lease is not None else None,
            self._ready_beat(stored),
            self._probes[name][2],
        )
        return stored

    def _taints_settled(self, node: Node, ready: str, zone: str) -> bool:
        """Whether `_reconcile_taints` would write nothing, and do what it does then:
        a node neither False nor Unknown without the not-ready and unreachable taints
        (nearly every node a pass looks at) only leaves its zone's queue, with no
        coroutine to run."""
        if ready == "False" or ready == "Unknown":
            return False
        for taint in node.spec.taints:
            if taint.key == NOT_READY or taint.key == UNREACHABLE:
                return False
        queue = self._zone_queue(zone)
        if queue.nodes:
            queue.remove(node.metadata.name)
        return True

    def _zone_queue(self, zone: str) -> ZoneQueue:
        """The eviction queue of `zone`, made on first use."""
        queue = self._zones.get(zone)
        if queue is None:
            queue = self._zones[zone] = ZoneQueue(refilled=self.context.clock.now())
        return queue

    async def _reconcile_taints(self, node: Node, ready: str, zone: str) -> None:
        queue = self._zone_queue(zone)
        name = node.metadata.name
        want = {"False": NOT_READY, "Unknown": UNREACHABLE}.get(ready)
        no_schedule = {t.key for t in node.spec.taints if t.effect == "NoSchedule"}
        if no_schedule & {NOT_READY, UNREACHABLE} != ({want} if want else set()):
            # Keep new pods off at once, as upstream's TaintNodesByCondition (not rate limited).
            node = await self._set_taint(node, want, "NoSchedule") or node
        current = {t.key for t in node.spec.taints if t.effect == "NoExecute"}
        if want is None:
            queue.remove(name)
            if current & {NOT_READY, UNREACHABLE}:
                await self._set_taint(node, None, "NoExecute")
            return
        if want in current:
            return
        if current & {NOT_READY, UNREACHABLE}:
            await self._set_taint(node, want, "NoExecute")  # a swap is not rate limited
        else:
            queue.add(name)

    def _set_zone_rates(self, counts: dict[str, list[int]]) -> None:
        settings = self.settings
        states = {
            zone: zone_state(ready, not_ready, settings.unhealthy_zone_threshold)
            for zone, (ready, not_ready) in counts.items()
        }
        all_full = bool(states) and all(s is ZoneState.FULL_DISRUPTION for s in states.values())
        for zone, state in states.items():
            queue = self._zone_queue(zone)
            queue.rate = zone_rate(
                state,
                sum(counts[zone]),
                all_fully_disrupted=all_full,
                primary_qps=settings.eviction_qps,
                secondary_qps=settings.secondary_eviction_qps,
                large_cluster_threshold=settings.large_cluster_threshold,
            )
            if self.zone_states.get(zone) != state:
                logger.info("zone %s is now %s", zone, state.value)
        self.zone_states = states

    async def _taint(self, node: Node) -> None:
        want = {"False": NOT_READY, "Unknown": UNREACHABLE}.get(_ready_status(node))
        if want is not None:
            await self._set_taint(node, want, "NoExecute")

    async def _set_taint(self, node: Node, key: str | None, effect: str) -> Node | None:
        """Replace the node's not-ready/unreachable taints of `effect` with `key` (or none)."""
        kept = [
            t
            for t in node.spec.taints
            if t.effect != effect or t.key not in (NOT_READY, UNREACHABLE)
        ]
        if key is not None:
            stamp = format_time(self.context.clock.wall())
            kept.append(Taint(key=key, effect=effect, time_added=stamp))  # type: ignore[arg-type]
        spec = msgspec.structs.replace(node.spec, taints=kept)
        self._writes += 1
        try:
            return await self.client.update(msgspec.structs.replace(node, spec=spec))
        except ApiError as error:
            logger.debug("node %s: taint update deferred: %s", node.metadata.name, error)
            return None
