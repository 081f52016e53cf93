"""Pod defaulting: each missing field gets upstream's default, each given one is kept;
kinds without defaults are left as they are."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import KINDS, Container, Lease, ObjectMeta, Pod, PodSpec, PodStatus
from kubeactors.api._defaults import apply_defaults, has_defaults

images = st.sampled_from(
    ["busybox", "busybox:latest", "busybox:1.36", "reg.io:5000/app", "app@sha256:ab", "a/b:c"]
)
containers = st.builds(
    Container,
    name=st.sampled_from(["app", "side"]),
    image=images,
    image_pull_policy=st.sampled_from(["", "Never"]),
    termination_message_path=st.sampled_from(["", "/tmp/log"]),
    termination_message_policy=st.sampled_from(["", "FallbackToLogsOnError"]),
)
specs = st.builds(
    PodSpec,
    containers=st.lists(containers, max_size=3),
    init_containers=st.lists(containers, max_size=2),
    restart_policy=st.sampled_from(["", "Never"]),
    termination_grace_period_seconds=st.sampled_from([None, 0, 5]),
    dns_policy=st.sampled_from(["", "Default"]),
    scheduler_name=st.sampled_from(["", "other"]),
    enable_service_links=st.sampled_from([None, False, True]),
)
pods = st.builds(
    Pod,
    metadata=st.builds(ObjectMeta, name=st.just("p")),
    spec=specs,
    status=st.builds(PodStatus, phase=st.sampled_from(["", "Running"])),
)


def _pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    return "Always" if ":" not in name or name.endswith(":latest") else "IfNotPresent"


def _check_container(given_: Container, defaulted: Container) -> None:
    assert defaulted.image_pull_policy == (given_.image_pull_policy or _pull_policy(given_.image))
    assert defaulted.termination_message_path == (
        given_.termination_message_path or "/dev/termination-log"
    )
    assert defaulted.termination_message_policy == (given_.termination_message_policy or "File")
    unchanged = ("image_pull_policy", "termination_message_path", "termination_message_policy")
    assert msgspec.structs.replace(defaulted, **dict.fromkeys(unchanged, "")) == (
        msgspec.structs.replace(given_, **dict.fromkeys(unchanged, ""))
    )


@given(pods)
def test_pod_defaults_fill_exactly_what_is_missing(pod: Pod) -> None:
    defaulted = apply_defaults(pod)
    assert isinstance(defaulted, Pod)
    spec, given_ = defaulted.spec, pod.spec
    for before, after in zip(
        given_.containers + given_.init_containers,
        spec.containers + spec.init_containers,
        strict=True,
    ):
        _check_container(before, after)
    assert spec.restart_policy == (given_.restart_policy or "Always")
    grace = given_.termination_grace_period_seconds
    assert spec.termination_grace_period_seconds == (30 if grace is None else grace)
    assert spec.dns_policy == (given_.dns_policy or "ClusterFirst")
    assert spec.scheduler_name == (given_.scheduler_name or "default-scheduler")
    links = given_.enable_service_links
    assert spec.enable_service_links is (True if links is None else links)
    assert defaulted.status.phase == (pod.status.phase or "Pending")
    assert defaulted.metadata is pod.metadata
    # Defaulting twice changes nothing more, and hands back the very object.
    assert apply_defaults(defaulted) is defaulted


@given(pods)
def test_defaults_with_new_metadata_are_one_step(pod: Pod) -> None:
    meta = ObjectMeta(name="q", namespace="n", uid="u")
    together = apply_defaults(pod, meta)
    assert together == apply_defaults(msgspec.structs.replace(pod, metadata=meta))
    assert together.metadata is meta


def test_a_kind_without_defaults_is_left_as_it_is() -> None:
    """An update skips defaulting for a kind `has_defaults` says has none: for each
    such kind, defaulting gives back the very object, even one with nothing set."""
    for kind in KINDS:
        obj = kind.type()
        if not has_defaults(kind.type):
            assert apply_defaults(obj) is obj, kind.kind
    assert has_defaults(Pod)
    assert not has_defaults(Lease)
