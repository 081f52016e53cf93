import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.node import pod_cidr
from kubeactors.node._ipam import PodAddresses

pods = st.sampled_from([f"p{i}" for i in range(12)])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), pods, st.just(0)),
        st.tuples(st.just("release"), pods, st.just(0)),
        st.tuples(st.just("adopt"), pods, st.integers(0, 255)),
    ),
    max_size=80,
)


@given(operations)
def test_no_two_pods_share_an_address(ops: list[tuple[str, str, int]]) -> None:
    cidr = pod_cidr(3)
    addresses = PodAddresses(cidr)
    held: dict[str, ipaddress.IPv4Address] = {}
    for op, pod, last_octet in ops:
        if op == "allocate":
            address = ipaddress.IPv4Address(addresses.allocate(pod))
            assert held.setdefault(pod, address) == address
        elif op == "release":
            addresses.release(pod)
            held.pop(pod, None)
        else:
            address = cidr.network_address + last_octet
            if addresses.adopt(pod, str(address)):
                assert held.setdefault(pod, address) == address
        assert len(set(held.values())) == len(held)
        assert all(cidr.network_address + 2 <= a < cidr.broadcast_address for a in held.values())
        assert len(addresses) == len(held)


def test_a_full_cidr_says_so() -> None:
    addresses = PodAddresses(pod_cidr(0))
    for index in range(253):
        addresses.allocate(f"p{index}")
    with pytest.raises(RuntimeError, match=r"no pod address left in 10\.0\.0\.0/24"):
        addresses.allocate("one-too-many")
    assert not addresses.adopt("stranger", "192.168.0.9")
