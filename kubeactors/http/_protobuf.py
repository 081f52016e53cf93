"""Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`).

client-go's typed clients write protobuf when they may; of kubectl's commands,
`create rolebinding` and `create clusterrolebinding` do, and send `Accept:
application/vnd.kubernetes.protobuf,application/json`, so answers stay JSON. A body
is read into the same JSON-shaped value a JSON body decodes to, so everything after
decoding (field validation, conversion, admission) is shared.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._errors import bad_request, unsupported_media_type

if TYPE_CHECKING:
    from google.protobuf.message import Message

__all__ = ["PROTOBUF", "decode_protobuf"]

PROTOBUF = "application/vnd.kubernetes.protobuf"

_MAGIC = b"k8s\x00"
"""What every protobuf-encoded Kubernetes object starts with, before its `Unknown`."""

_BINDINGS = {
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
}
"""The kinds whose protobuf messages this server reads."""


def _time(moment: Any) -> str:
    return datetime.fromtimestamp(moment.seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _metadata(meta: Any) -> dict[str, Any]:
    """`ObjectMeta` as its JSON: int64s as numbers and times as RFC 3339, which
    protobuf's own JSON mapping would write as strings and objects."""
    from google.protobuf.json_format import MessageToDict

    value: dict[str, Any] = MessageToDict(meta, preserving_proto_field_name=True)
    for field in ("generation", "deletionGracePeriodSeconds"):
        if meta.HasField(field):
            value[field] = getattr(meta, field)
    for field in ("creationTimestamp", "deletionTimestamp"):
        if meta.HasField(field):
            value[field] = _time(getattr(meta, field))
    return value


def _message(data: bytes, message: Message, what: str) -> None:
    from google.protobuf.message import DecodeError

    try:
        message.ParseFromString(data)
    except DecodeError as error:
        raise bad_request(
            f"the body of the request could not be decoded: {what}: {error}"
        ) from None


def decode_protobuf(body: bytes) -> dict[str, Any]:
    """The object a protobuf body carries, shaped as its JSON (apiVersion and kind from
    the envelope); a kind this server does not read in protobuf is a 415 that says
    to send JSON instead."""
    try:
        from google.protobuf.json_format import MessageToDict

        from ._proto import kubernetes_pb2
    except ImportError:  # protobuf is a dependency; a trimmed install may lack it
        raise unsupported_media_type(PROTOBUF, "the protobuf package is not installed") from None
    if not body.startswith(_MAGIC):
        raise bad_request(
            "the body of the request could not be decoded: "
            "a protobuf object must start with the bytes 'k8s\\x00'"
        )
    envelope = kubernetes_pb2.Unknown()
    _message(body[len(_MAGIC) :], envelope, "the runtime.Unknown envelope")
    api_version, kind = envelope.typeMeta.apiVersion, envelope.typeMeta.kind
    if envelope.contentEncoding:
        raise unsupported_media_type(PROTOBUF, f"contentEncoding {envelope.contentEncoding!r}")
    if (api_version, kind) not in _BINDINGS:
        raise unsupported_media_type(
            PROTOBUF,
            f"protobuf is read for RoleBinding and ClusterRoleBinding only, "
            f"send {kind or 'this object'} ({api_version}) as JSON",
        )
    binding = kubernetes_pb2.RoleBinding()
    _message(envelope.raw, binding, kind)
    value: dict[str, Any] = MessageToDict(binding, preserving_proto_field_name=True)
    value["metadata"] = _metadata(binding.metadata)
    return {"apiVersion": api_version, "kind": kind, **value}
