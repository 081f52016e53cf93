"""Pod IP addresses within one node's pod CIDR."""

from __future__ import annotations

import ipaddress

__all__ = ["PodAddresses"]


class PodAddresses:
    """Gives each pod of a node an address of the node's CIDR; no two pods share one.

    The first host address is the node's gateway; pods get the next ones in order,
    and released addresses are reused. Pods found already running (after a kubelet
    restart) are adopted with the address they have.
    """

    def __init__(self, cidr: ipaddress.IPv4Network) -> None:
        self.cidr = cidr
        self._by_pod: dict[str, int] = {}
        self._taken: set[int] = set()
        self._released: list[int] = []
        self._next = 2
        self._end = cidr.num_addresses - 1  # the broadcast address is not a host
        # Addresses are formatted often: for a /24 the text is a prefix and a number.
        octets = str(cidr.network_address).split(".")
        self._prefix = ".".join(octets[:3]) + "." if cidr.prefixlen >= 24 else ""
        self._base = int(cidr.network_address) % 256

    def __len__(self) -> int:
        return len(self._by_pod)

    def allocate(self, pod: str) -> str:
        """The address of `pod`, given one if it has none; `RuntimeError` when full."""
        offset = self._by_pod.get(pod)
        if offset is None:
            offset = self._free_offset()
            self._by_pod[pod] = offset
            self._taken.add(offset)
        if self._prefix:
            return f"{self._prefix}{self._base + offset}"
        return str(self.cidr.network_address + offset)

    def _free_offset(self) -> int:
        while self._released:
            offset = self._released.pop()
            if offset not in self._taken:
                return offset
        while self._next < self._end:
            offset = self._next
            self._next += 1
            if offset not in self._taken:
                return offset
        raise RuntimeError(f"no pod address left in {self.cidr}")

    def adopt(self, pod: str, address: str) -> bool:
        """Record that `pod` runs at `address`; False if that is not ours to give."""
        if pod in self._by_pod:
            return self.cidr.network_address + self._by_pod[pod] == ipaddress.ip_address(address)
        try:
            offset = int(ipaddress.IPv4Address(address)) - int(self.cidr.network_address)
        except ipaddress.AddressValueError:
            return False
        if not 2 <= offset < self._end or offset in self._taken:
            return False
        self._by_pod[pod] = offset
        self._taken.add(offset)
        return True

    def release(self, pod: str) -> None:
        offset = self._by_pod.pop(pod, None)
        if offset is not None:
            self._taken.discard(offset)
            self._released.append(offset)
