"""Conversions between the store's structs and etcd's protobuf messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..store import Event, EventType, KeyValue
from ._proto import kv_pb2, rpc_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

__all__ = ["Identity", "add_kvs", "event_to_pb", "kv_to_pb", "range_end_of"]


class Identity:
    """Who answers: the cluster and member IDs and raft term every response header carries.

    A single kubeactors store is a one-member cluster that is always its own leader,
    so the term never changes.
    """

    def __init__(
        self,
        *,
        name: str = "kubeactors",
        cluster_id: int = 0x6B75626561637472,
        member_id: int = 0x6B61000000000001,
        client_urls: tuple[str, ...] = (),
        peer_urls: tuple[str, ...] = (),
        raft_term: int = 1,
    ) -> None:
        self.name = name
        self.cluster_id = cluster_id
        self.member_id = member_id
        self.client_urls = client_urls
        self.peer_urls = peer_urls
        self.raft_term = raft_term

    def header(self, revision: int) -> rpc_pb2.ResponseHeader:
        return rpc_pb2.ResponseHeader(
            cluster_id=self.cluster_id,
            member_id=self.member_id,
            revision=revision,
            raft_term=self.raft_term,
        )

    def fill_header(self, header: rpc_pb2.ResponseHeader, revision: int) -> None:
        """Set a response's own header in place: half the cost of building one and
        copying it in, on the path of every Range and Put."""
        header.cluster_id = self.cluster_id
        header.member_id = self.member_id
        header.revision = revision
        header.raft_term = self.raft_term


def kv_to_pb(kv: KeyValue, *, keys_only: bool = False) -> kv_pb2.KeyValue:
    return kv_pb2.KeyValue(
        key=kv.key,
        create_revision=kv.create_revision,
        mod_revision=kv.mod_revision,
        version=kv.version,
        value=b"" if keys_only else kv.value,
        lease=kv.lease,
    )


def add_kvs(
    target: RepeatedCompositeFieldContainer[kv_pb2.KeyValue], kvs: Iterable[KeyValue]
) -> None:
    """Append `kvs` to a response's repeated KeyValue field, each built in place."""
    add = target.add
    for kv in kvs:
        add(
            key=kv.key,
            create_revision=kv.create_revision,
            mod_revision=kv.mod_revision,
            version=kv.version,
            value=kv.value,
            lease=kv.lease,
        )


def event_to_pb(event: Event) -> kv_pb2.Event:
    message = kv_pb2.Event(
        type=kv_pb2.Event.PUT if event.type is EventType.PUT else kv_pb2.Event.DELETE,
        kv=kv_to_pb(event.kv),
    )
    if event.prev_kv is not None:
        message.prev_kv.CopyFrom(kv_to_pb(event.prev_kv))
    return message


def range_end_of(range_end: bytes) -> bytes | None:
    """etcd's empty `range_end` (a single key) in the store's convention (None)."""
    return range_end or None
