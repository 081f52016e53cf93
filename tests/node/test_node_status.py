import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import NodeCondition
from kubeactors.node._node_status import fresh_conditions, node_conditions

_HEALTHY = node_conditions([], "2026-01-01T00:00:00Z")
"""The four conditions a healthy kubelet posts, in their order."""

_stamps = st.sampled_from([None, "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"])
_condition = st.one_of(
    st.sampled_from(_HEALTHY),
    st.builds(
        NodeCondition,
        type=st.sampled_from(["Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "X"]),
        status=st.sampled_from(["True", "False", "Unknown"]),
        last_heartbeat_time=_stamps,
        last_transition_time=_stamps,
        reason=st.sampled_from(["", "KubeletReady", "NodeStatusUnknown"]),
        message=st.sampled_from(["", "kubelet is posting ready status"]),
    ),
)
_previous = st.one_of(
    st.lists(_condition, max_size=5),
    # The healthy four with one field of one of them changed.
    st.builds(
        lambda index, field, value: [
            *_HEALTHY[:index],
            msgspec.structs.replace(_HEALTHY[index], **{field: value}),
            *_HEALTHY[index + 1 :],
        ],
        st.integers(0, 3),
        st.sampled_from(["type", "status", "reason", "message"]),
        st.sampled_from(["Ready", "False", "Unknown", "", "other"]),
    ),
)


@given(_previous)
def test_conditions_beating_again_are_the_conditions_built_afresh(
    previous: list[NodeCondition],
) -> None:
    now = "2026-01-01T00:02:00Z"
    assert node_conditions(previous, now) == fresh_conditions(previous, now)


def test_a_healthy_node_keeps_its_transition_times() -> None:
    later = node_conditions(_HEALTHY, "2026-01-01T00:05:00Z")
    assert [c.last_heartbeat_time for c in later] == ["2026-01-01T00:05:00Z"] * 4
    assert [c.last_transition_time for c in later] == ["2026-01-01T00:00:00Z"] * 4
