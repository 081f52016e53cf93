from dataclasses import dataclass

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    KINDS,
    PODS,
    ApiError,
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    Node,
    ObjectMeta,
    Pod,
    ResourceKind,
    RollingUpdateDeployment,
    Secret,
    UnknownKindError,
    decode_object,
    kind_of,
)
from kubeactors.api._kinds import with_resource_version


def test_every_kind_round_trips_its_default_through_json() -> None:
    for kind in KINDS:
        obj = kind.type()
        wire = msgspec.json.decode(msgspec.json.encode(obj))
        assert wire["kind"] == kind.kind
        assert wire["apiVersion"] == kind.api_version
        assert msgspec.json.decode(msgspec.json.encode(obj), type=kind.type) == obj


def test_registry_finds_kinds_by_type_resource_kind_and_short_name() -> None:
    deployments = KINDS.of_resource("apps", "deployments")
    assert deployments.type is Deployment
    assert deployments.namespaced
    assert "scale" in deployments.subresources
    assert KINDS.of_kind("apps/v1", "Deployment") is deployments
    assert KINDS.of_name("deploy") is deployments
    assert KINDS.of_name("po") is PODS
    assert kind_of(Node).namespaced is False
    assert KINDS.of_resource("rbac.authorization.k8s.io", "clusterroles").namespaced is False
    assert KINDS.groups()["apps"] == ["v1"]
    with pytest.raises(UnknownKindError, match="widgets"):
        KINDS.of_resource("", "widgets")
    with pytest.raises(UnknownKindError):
        kind_of(dict)  # type: ignore[type-var]


def test_int_or_string_keeps_its_wire_type() -> None:
    strategy = DeploymentStrategy(
        type="RollingUpdate",
        rolling_update=RollingUpdateDeployment(max_surge="25%", max_unavailable=1),
    )
    wire = msgspec.json.encode(Deployment(spec=DeploymentSpec(strategy=strategy)))
    back = msgspec.json.decode(wire, type=Deployment)
    assert back.spec.strategy.rolling_update == strategy.rolling_update
    assert b'"maxSurge":"25%"' in wire
    assert b'"maxUnavailable":1' in wire


def test_secret_data_is_base64_on_the_wire() -> None:
    wire = msgspec.json.decode(msgspec.json.encode(Secret(data={"k": b"\x00hi"})))
    assert wire["data"] == {"k": "AGhp"}


def test_strict_decoding_names_every_unknown_field() -> None:
    body = (
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","colour":"red"},'
        b'"spec":{"containers":[{"name":"c","sise":1}]}}'
    )
    with pytest.raises(ApiError) as caught:
        decode_object(body)
    assert caught.value.code == 400
    message = caught.value.status.message
    assert 'unknown field "metadata.colour"' in message
    assert 'unknown field "spec.containers[0].sise"' in message
    pod, warnings = decode_object(body, PODS, field_validation="Warn")
    assert isinstance(pod, Pod)
    assert warnings == [
        'unknown field "metadata.colour"',
        'unknown field "spec.containers[0].sise"',
    ]
    assert decode_object(body, field_validation="Ignore")[1] == []


def test_decoding_rejects_wrong_types_and_unknown_kinds() -> None:
    with pytest.raises(ApiError, match=r"spec.containers"):
        decode_object(b'{"apiVersion":"v1","kind":"Pod","spec":{"containers":3}}')
    with pytest.raises(ApiError, match="Widget"):
        decode_object(b'{"apiVersion":"v1","kind":"Widget"}')
    with pytest.raises(ApiError, match="missing"):
        decode_object(b'{"metadata":{}}')
    with pytest.raises(ApiError, match="not valid JSON"):
        decode_object(b"{")


def test_a_kind_encodes_as_msgspec_does_unless_it_encodes_its_own_way() -> None:
    """`encode` is the kind's encoder itself (no Python call per write), writing what
    msgspec writes; a kind class with its own `encode` keeps it."""
    for kind in KINDS:
        obj = kind.type()
        assert kind.encode(obj) == msgspec.json.encode(obj)

    @dataclass(frozen=True, eq=False)
    class Wrapped(ResourceKind[Pod]):
        def encode(self, obj: Pod) -> bytes:
            return b"[" + super().encode(obj) + b"]"

    wrapped = Wrapped(Pod, "Pod", "pods", True, b"/registry/wrapped/")
    assert wrapped.encode(Pod()) == b"[" + msgspec.json.encode(Pod()) + b"]"


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_with_resource_version_stamps_a_copy_with_the_revision(revision: int) -> None:
    pod = Pod(metadata=ObjectMeta(name="web", namespace="default", resource_version="3"))
    stamped = with_resource_version(pod, revision)
    assert stamped.metadata.resource_version == str(revision)
    assert msgspec.structs.replace(stamped.metadata, resource_version="3") == pod.metadata
    assert stamped.spec == pod.spec
    assert pod.metadata.resource_version == "3"  # the original is left as it was
