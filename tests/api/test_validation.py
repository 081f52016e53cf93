"""Validation names each field at fault (a pod's container by container), and judges
a name the same however often it comes."""

from __future__ import annotations

import re
import string
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    KINDS,
    Container,
    Lease,
    LeaseSpec,
    Node,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    ResourceKind,
    ResourceRequirements,
    Role,
    kind_of,
)
from kubeactors.api._reviews import REVIEW_TYPES
from kubeactors.api._validation import (
    is_dns_subdomain,
    validate,
    validate_node,
    validate_pod,
    validator,
)


def _pod(*containers: Container) -> Pod:
    return Pod(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=PodSpec(containers=list(containers)),
    )


def test_a_valid_pod_has_no_causes() -> None:
    resources = ResourceRequirements(requests={"cpu": "100m"}, limits={"memory": "1Gi"})
    assert validate_pod(_pod(Container(name="app", resources=resources))) == []


def test_each_bad_container_field_is_named_with_its_index() -> None:
    causes = validate_pod(
        _pod(
            Container(name="app"),
            Container(name="", resources=ResourceRequirements(requests={"cpu": "1x"})),
            Container(name="app", resources=ResourceRequirements(limits={"memory": "-1"})),
        )
    )
    assert [(c.reason, c.field) for c in causes] == [
        ("FieldValueRequired", "spec.containers[1].name"),
        ("FieldValueInvalid", "spec.containers[1].resources.requests.cpu"),
        ("FieldValueDuplicate", "spec.containers[2].name"),
        ("FieldValueInvalid", "spec.containers[2].resources.limits.memory"),
    ]
    assert causes[2].message == 'Duplicate value: "app"'
    assert causes[3].message.startswith('Invalid value: "-1": must be greater than or equal to 0')


# Upstream's pattern (Go's regexp: `$` is the end of the text, never before a newline).
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


@given(st.text(alphabet="az09-.AZ_\n é²ǅ", max_size=12) | st.from_regex(_SUBDOMAIN, fullmatch=True))
def test_a_subdomain_is_what_upstreams_pattern_matches(name: str) -> None:
    expected = len(name) <= 253 and _SUBDOMAIN.fullmatch(name) is not None
    assert is_dns_subdomain(name) is expected


def test_a_subdomain_has_at_most_253_characters() -> None:
    assert is_dns_subdomain("a" * 63 + "." + "b" * 189)
    assert not is_dns_subdomain("a" * 63 + "." + "b" * 190)


def test_a_name_or_namespace_ending_in_a_newline_is_invalid() -> None:
    pod = Pod(
        metadata=ObjectMeta(name="web\n", namespace="default\n"),
        spec=PodSpec(containers=[Container(name="app")]),
    )
    assert [c.field for c in validate_pod(pod)] == ["metadata.name", "metadata.namespace"]


def _subdomain(name: str) -> bool:
    """RFC 1123 subdomain, label by label: lower case alphanumerics and '-', each
    label starting and ending with an alphanumeric; 253 characters at most."""
    alphanumeric = set(string.ascii_lowercase + string.digits)
    return 0 < len(name) <= 253 and all(
        label
        and label[0] in alphanumeric
        and label[-1] in alphanumeric
        and set(label) <= alphanumeric | {"-"}
        for label in name.split(".")
    )


NAMES = st.one_of(
    st.text(alphabet="ab9-.A_", max_size=12),
    st.sampled_from(["node-1", "a" * 253, "a" * 254, "node-1.", "-node", "Node-1", "n.o.d.e"]),
)


@given(st.lists(NAMES, min_size=1, max_size=20))
def test_a_name_is_judged_the_same_every_time_it_comes(names: list[str]) -> None:
    """Valid names are remembered: a name seen before, valid or not, gets the answer
    it got the first time (and the rules' answer)."""
    for name in names:
        lease = Lease(metadata=ObjectMeta(name=name, namespace="kube-node-lease"))
        fields = [cause.field for cause in validate(kind_of(Lease), lease)]
        assert ("metadata.name" in fields) == (not _subdomain(name))


NAMESPACES = st.sampled_from(["kube-node-lease", "default", "Bad_ns", "a" * 64, ""])


@given(st.lists(st.tuples(NAMES, NAMESPACES, st.booleans()), min_size=1, max_size=20))
def test_a_remembered_name_is_still_checked_with_its_namespace_and_kind(
    objects: list[tuple[str, str, bool]],
) -> None:
    """The shortcut for a name found valid before gives the causes the rules give:
    the namespace is judged every time, and a path-segment named kind (Role) takes
    names a subdomain-named kind (Lease) does not."""
    for name, namespace, role in objects:
        meta = ObjectMeta(name=name, namespace=namespace)
        obj = Role(metadata=meta) if role else Lease(metadata=meta)
        causes = validate(kind_of(type(obj)), obj)
        expected = []
        if not name:
            expected.append("metadata.name")
        elif role:
            if name in (".", "..") or "/" in name or "%" in name:
                expected.append("metadata.name")
        elif not _subdomain(name):
            expected.append("metadata.name")
        label = re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", namespace)
        if len(namespace) > 63 or label is None:
            expected.append("metadata.namespace")
        assert [cause.field for cause in causes] == expected


LEASE_NUMBERS = st.none() | st.integers(-3, 3)


@given(LEASE_NUMBERS, LEASE_NUMBERS)
def test_a_lease_duration_is_positive_and_its_transitions_not_negative(
    duration: int | None, transitions: int | None
) -> None:
    """As upstream's ValidateLeaseSpec: either may be left out."""
    lease = Lease(
        metadata=ObjectMeta(name="node-1", namespace="kube-node-lease"),
        spec=LeaseSpec(lease_duration_seconds=duration, lease_transitions=transitions),
    )
    expected = []
    if duration is not None and duration <= 0:
        expected.append(("spec.leaseDurationSeconds", f"Invalid value: {duration}: must be"))
    if transitions is not None and transitions < 0:
        expected.append(("spec.leaseTransitions", f"Invalid value: {transitions}: must be"))
    causes = validate(kind_of(Lease), lease)
    assert [(c.field, c.message.split(" greater")[0]) for c in causes] == expected


BUILT_IN_KINDS = st.sampled_from([kind for kind in KINDS if kind.type not in REVIEW_TYPES])


@given(BUILT_IN_KINDS, NAMES, NAMESPACES, st.sampled_from(["", "Pod", "Node", "Lease", "Other"]))
def test_a_kinds_validator_finds_what_validate_finds(
    kind: ResourceKind[Any], name: str, namespace: str, wrong_kind: str
) -> None:
    """The checks the API server works out once per kind (`validator`) give, for any
    object of the kind, the causes `validate` gives: pods' and nodes' own checks,
    the name rules of the kind (path segments for RBAC), its namespace, its `kind`
    field and its own checks beyond those."""
    obj = kind.type(metadata=ObjectMeta(name=name, namespace=namespace))
    if wrong_kind:
        obj = msgspec.structs.replace(obj, kind=wrong_kind)
    if isinstance(obj, Node):
        obj = msgspec.structs.replace(obj, status=NodeStatus(capacity={"cpu": name or "1"}))
    assert validator(kind)(obj) == validate(kind, obj)


def test_a_kinds_validator_is_its_types_own() -> None:
    """Pods and nodes get their own validation, without the generic path's steps."""
    assert validator(kind_of(Pod)) is validate_pod
    assert validator(kind_of(Node)) is validate_node


QUANTITY_SETS = st.dictionaries(
    st.sampled_from(["cpu", "memory", "pods"]), st.sampled_from(["1", "2Gi", "-1", "x", "110"])
)


@given(st.lists(st.tuples(QUANTITY_SETS, QUANTITY_SETS, st.booleans()), min_size=1, max_size=12))
def test_a_nodes_quantities_are_judged_as_the_rules_judge_them_every_time(
    posts: list[tuple[dict[str, str], dict[str, str], bool]],
) -> None:
    """Sets of quantities found valid are remembered: each post still gets the causes
    the rules give it, even when a remembered set was changed in place since."""
    for capacity, allocatable, change in posts:
        node = Node(
            metadata=ObjectMeta(name="node-1"),
            status=NodeStatus(capacity=capacity, allocatable=allocatable),
        )
        expected = [
            f"status.{field}.{resource}"
            for field, quantities in (("capacity", capacity), ("allocatable", allocatable))
            for resource, text in quantities.items()
            if text in ("-1", "x")
        ]
        assert [cause.field for cause in validate_node(node)] == expected
        if change:
            capacity["cpu"] = "x"  # the next post of this very dict must be refused
            assert "status.capacity.cpu" in [cause.field for cause in validate_node(node)]
