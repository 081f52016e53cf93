"""Leases: time-limited grants that delete their attached keys when they end."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from ..actors import Reply

__all__ = ["ExpiryReply", "Lease", "LeaseTable"]

logger = logging.getLogger(__name__)

MAX_LEASE_TTL = 9_000_000_000
"""etcd's largest TTL in seconds; a grant above it is refused."""


@dataclass(slots=True)
class Lease:
    id: int
    ttl: int
    expiry: float
    keys: set[bytes] = field(default_factory=set)

    def remaining(self, now: float) -> int:
        return max(math.ceil(self.expiry - now), 0)


class LeaseTable:
    """Every live lease and the keys attached to each, as of the latest state."""

    def __init__(self) -> None:
        self._leases: dict[int, Lease] = {}

    def __contains__(self, lease_id: int) -> bool:
        return lease_id in self._leases

    def __len__(self) -> int:
        return len(self._leases)

    def ids(self) -> list[int]:
        return sorted(self._leases)

    def get(self, lease_id: int) -> Lease | None:
        return self._leases.get(lease_id)

    def grant(self, lease_id: int, ttl: int, now: float) -> Lease:
        lease = Lease(lease_id, ttl, now + ttl)
        self._leases[lease_id] = lease
        return lease

    def remove(self, lease_id: int) -> Lease | None:
        return self._leases.pop(lease_id, None)

    def attach(self, key: bytes, lease_id: int) -> None:
        lease = self._leases.get(lease_id)
        if lease is not None:
            lease.keys.add(key)

    def detach(self, key: bytes, lease_id: int) -> None:
        lease = self._leases.get(lease_id)
        if lease is not None:
            lease.keys.discard(key)

    def expired(self, now: float) -> list[int]:
        return [lease.id for lease in self._leases.values() if lease.expiry <= now]

    def refresh_all(self, now: float) -> None:
        """After a restart every lease gets its full TTL again (as etcd does)."""
        for lease in self._leases.values():
            lease.expiry = now + lease.ttl


class ExpiryReply(Reply[int]):
    """The reply of a store-initiated revoke (lease expiry): nobody waits for it.
    (A plain-Python subclass of the compiled `Reply`, which allows them: expiries
    are rare, so it need not be compiled with the store actor.)"""

    __slots__ = ()

    def __init__(self) -> None:
        pass

    @property
    def done(self) -> bool:
        return False

    def send(self, value: int) -> None:
        pass

    def fail(self, error: BaseException) -> None:
        logger.error("lease expiry failed: %s", error)
