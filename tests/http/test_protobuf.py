"""Protobuf request bodies: what kubectl's `create rolebinding` sends is read as its JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import ApiError
from kubeactors.http._proto import kubernetes_pb2
from kubeactors.http._protobuf import decode_protobuf

from .harness import KUBECTL, served

RBAC = "rbac.authorization.k8s.io/v1"

names = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
subjects = st.builds(
    lambda kind, name, namespace: (
        {"kind": kind, "name": name, "namespace": namespace}
        if kind == "ServiceAccount"
        else {"kind": kind, "apiGroup": "rbac.authorization.k8s.io", "name": name}
    ),
    st.sampled_from(["User", "Group", "ServiceAccount"]),
    names,
    names,
)


def _encode(api_version: str, kind: str, message: Any, magic: bytes = b"k8s\x00") -> bytes:
    envelope = kubernetes_pb2.Unknown(
        typeMeta=kubernetes_pb2.TypeMeta(apiVersion=api_version, kind=kind),
        raw=message.SerializeToString(),
    )
    encoded: bytes = envelope.SerializeToString()
    return magic + encoded


def _binding(value: dict[str, Any]) -> Any:
    meta = value["metadata"]
    return kubernetes_pb2.RoleBinding(
        metadata=kubernetes_pb2.ObjectMeta(
            name=meta["name"],
            namespace=meta.get("namespace"),
            labels=meta.get("labels", {}),
            generation=meta.get("generation"),
        ),
        subjects=[kubernetes_pb2.Subject(**subject) for subject in value["subjects"]],
        roleRef=kubernetes_pb2.RoleRef(**value["roleRef"]),
    )


@given(
    kind=st.sampled_from(["RoleBinding", "ClusterRoleBinding"]),
    name=names,
    labels=st.dictionaries(names, names, max_size=3),
    generation=st.none() | st.integers(1, 2**40),
    bound=st.lists(subjects, max_size=4),
    role=names,
)
def test_a_binding_reads_as_its_json(
    kind: str,
    name: str,
    labels: dict[str, str],
    generation: int | None,
    bound: list[dict[str, str]],
    role: str,
) -> None:
    metadata: dict[str, Any] = {"name": name}
    if kind == "RoleBinding":
        metadata["namespace"] = "team"
    if labels:
        metadata["labels"] = labels
    if generation is not None:
        metadata["generation"] = generation
    value: dict[str, Any] = {
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
    }
    if bound:
        value["subjects"] = bound
    expected = {"apiVersion": RBAC, "kind": kind, **value}
    assert decode_protobuf(_encode(RBAC, kind, _binding({"subjects": [], **value}))) == expected


def test_creation_time_reads_as_rfc_3339() -> None:
    binding = kubernetes_pb2.RoleBinding(
        metadata=kubernetes_pb2.ObjectMeta(
            name="b", creationTimestamp=kubernetes_pb2.Time(seconds=1_767_225_600)
        )
    )
    decoded = decode_protobuf(_encode(RBAC, "ClusterRoleBinding", binding))
    assert decoded["metadata"] == {"name": "b", "creationTimestamp": "2026-01-01T00:00:00Z"}


def test_bodies_that_cannot_be_read_are_refused_with_the_reason() -> None:
    binding = kubernetes_pb2.RoleBinding(metadata=kubernetes_pb2.ObjectMeta(name="b"))
    refusals = {
        _encode(RBAC, "RoleBinding", binding, magic=b"{"): (400, "must start with the bytes"),
        _encode(RBAC, "RoleBinding", binding)[:-3]: (400, "could not be decoded"),
        _encode("v1", "Pod", binding): (415, "send Pod (v1) as JSON"),
    }
    for body, (code, message) in refusals.items():
        with pytest.raises(ApiError) as caught:
            decode_protobuf(body)
        assert caught.value.code == code
        assert message in caught.value.status.message


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")
async def test_kubectl_creates_bindings_that_grant_access(tmp_path: Path) -> None:
    async with served(tmp_path, users={"bob-token": "bob"}) as api:
        status, _, err = await api.kubectl("create", "namespace", "team")
        assert status == 0, err
        status, _, err = await api.kubectl("get", "pods", "-n", "team", token="bob-token")
        assert status == 1
        assert "forbidden" in err
        status, out, err = await api.kubectl(
            "create", "rolebinding", "bob-views", "-n", "team", "--clusterrole=view", "--user=bob"
        )
        assert (status, out) == (0, "rolebinding.rbac.authorization.k8s.io/bob-views created\n"), (
            err
        )
        status, out, err = await api.kubectl(
            "create", "clusterrolebinding", "bob-reads-nodes", "--clusterrole=view", "--group=devs"
        )
        assert status == 0, err
        stored = await api.kubectl_json("get", "rolebinding", "bob-views", "-n", "team")
        assert stored["subjects"] == [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}
        ]
        assert stored["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "view",
        }
        status, _, err = await api.kubectl("get", "pods", "-n", "team", token="bob-token")
        assert status == 0, err
        cluster = await api.kubectl_json("get", "clusterrolebinding", "bob-reads-nodes")
        assert cluster["subjects"][0]["kind"] == "Group"
