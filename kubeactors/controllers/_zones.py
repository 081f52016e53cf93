"""Per-zone health and the rate at which a zone's failing nodes may be tainted.

As upstream's node lifecycle controller: a zone with no ready node is in full
disruption; one where more than two nodes and at least `unhealthy_threshold` of them
are not ready is in partial disruption. Nodes of a normal (or fully disrupted) zone
are tainted at `primary_qps`; of a partially disrupted zone at `secondary_qps` if the
zone is larger than `large_cluster_threshold`, else not at all (a small zone in
trouble is more likely a network partition than dead machines). If every zone is
fully disrupted, nothing is tainted: the controller itself is probably cut off.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum

__all__ = ["ZoneQueue", "ZoneState", "zone_rate", "zone_state"]


class ZoneState(Enum):
    NORMAL = "Normal"
    PARTIAL_DISRUPTION = "PartialDisruption"
    FULL_DISRUPTION = "FullDisruption"


def zone_state(ready: int, not_ready: int, unhealthy_threshold: float) -> ZoneState:
    if ready == 0 and not_ready > 0:
        return ZoneState.FULL_DISRUPTION
    total = ready + not_ready
    if not_ready > 2 and total > 0 and not_ready / total >= unhealthy_threshold:
        return ZoneState.PARTIAL_DISRUPTION
    return ZoneState.NORMAL


def zone_rate(
    state: ZoneState,
    size: int,
    *,
    all_fully_disrupted: bool,
    primary_qps: float,
    secondary_qps: float,
    large_cluster_threshold: int,
) -> float:
    """Nodes per second this zone may have tainted."""
    if all_fully_disrupted:
        return 0.0
    if state is ZoneState.PARTIAL_DISRUPTION:
        return secondary_qps if size > large_cluster_threshold else 0.0
    return primary_qps


@dataclass
class ZoneQueue:
    """Nodes of one zone waiting for their NoExecute taint, released at `rate`.

    The bucket holds one second's worth of tokens (at least one), so a high rate is
    not capped by how often the controller looks.
    """

    rate: float = 0.0
    tokens: float = 1.0
    refilled: float = 0.0
    nodes: deque[str] = field(default_factory=deque)

    def add(self, node: str) -> None:
        if node not in self.nodes:
            self.nodes.append(node)

    def remove(self, node: str) -> None:
        if node in self.nodes:
            self.nodes.remove(node)

    def take(self, now: float) -> list[str]:
        """The nodes whose turn has come by `now` (none while the rate is zero)."""
        if self.rate <= 0:
            self.refilled = now
            return []
        if self.rate > 0:
            burst = max(1.0, self.rate)
            self.tokens = min(burst, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        released: list[str] = []
        while self.nodes and self.tokens >= 1.0:
            released.append(self.nodes.popleft())
            self.tokens -= 1.0
        return released
