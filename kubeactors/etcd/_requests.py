"""The store's requests as etcd's protobuf messages, and etcd's answers as store results.

The other direction from `_convert` and `_kv` (which serve etcd's messages from a
store): these let a store actor speak to a real etcd cluster.
"""

from __future__ import annotations

from ..store import (
    Compare,
    CompareResult,
    CompareTarget,
    DeleteOp,
    DeleteResult,
    Event,
    EventType,
    KeyValue,
    Op,
    PutOp,
    PutResult,
    RangeOp,
    RangeResult,
    TxnOp,
    TxnResult,
)
from ._proto import kv_pb2, rpc_pb2

__all__ = [
    "delete_request",
    "delete_result",
    "event_from_pb",
    "kv_from_pb",
    "put_request",
    "range_request",
    "range_result",
    "txn_request",
    "txn_result",
    "wire_key",
]

pb = rpc_pb2

_TARGETS = {
    CompareTarget.VERSION: (pb.Compare.VERSION, "version"),
    CompareTarget.CREATE: (pb.Compare.CREATE, "create_revision"),
    CompareTarget.MOD: (pb.Compare.MOD, "mod_revision"),
    CompareTarget.VALUE: (pb.Compare.VALUE, "value"),
    CompareTarget.LEASE: (pb.Compare.LEASE, "lease"),
}
_RESULTS = {
    CompareResult.EQUAL: pb.Compare.EQUAL,
    CompareResult.GREATER: pb.Compare.GREATER,
    CompareResult.LESS: pb.Compare.LESS,
    CompareResult.NOT_EQUAL: pb.Compare.NOT_EQUAL,
}


def wire_key(key: bytes, range_end: bytes | None) -> bytes:
    """etcd refuses an empty key even with a range end; the store reads it as the
    first key, and no key sorts below b"\\0" but the empty one, which cannot exist."""
    return b"\0" if not key and range_end is not None else key


def kv_from_pb(message: kv_pb2.KeyValue) -> KeyValue:
    return KeyValue(
        message.key,
        message.value,
        message.create_revision,
        message.mod_revision,
        message.version,
        message.lease,
    )


def event_from_pb(message: kv_pb2.Event) -> Event:
    kind = EventType.DELETE if message.type == kv_pb2.Event.DELETE else EventType.PUT
    prev = kv_from_pb(message.prev_kv) if message.HasField("prev_kv") else None
    return Event(kind, kv_from_pb(message.kv), prev)


def range_request(op: RangeOp) -> pb.RangeRequest:
    return pb.RangeRequest(
        key=wire_key(op.key, op.range_end),
        range_end=op.range_end or b"",
        limit=op.limit,
        revision=op.revision,
        keys_only=op.keys_only,
        count_only=op.count_only,
    )


def put_request(op: PutOp) -> pb.PutRequest:
    return pb.PutRequest(
        key=op.key,
        value=op.value,
        lease=op.lease,
        prev_kv=op.prev_kv,
        ignore_value=op.ignore_value,
        ignore_lease=op.ignore_lease,
    )


def delete_request(op: DeleteOp) -> pb.DeleteRangeRequest:
    return pb.DeleteRangeRequest(
        key=wire_key(op.key, op.range_end), range_end=op.range_end or b"", prev_kv=op.prev_kv
    )


def compare_request(compare: Compare) -> pb.Compare:
    target, field = _TARGETS[compare.target]
    message = pb.Compare(
        key=compare.key,
        range_end=compare.range_end or b"",
        target=target,
        result=_RESULTS[compare.result],
    )
    setattr(message, field, compare.value)
    return message


def _request_op(op: Op) -> pb.RequestOp:
    match op:
        case RangeOp():
            return pb.RequestOp(request_range=range_request(op))
        case PutOp():
            return pb.RequestOp(request_put=put_request(op))
        case DeleteOp():
            return pb.RequestOp(request_delete_range=delete_request(op))
        case TxnOp():
            return pb.RequestOp(request_txn=txn_request(op))


def txn_request(txn: TxnOp) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[compare_request(c) for c in txn.compares],
        success=[_request_op(op) for op in txn.success],
        failure=[_request_op(op) for op in txn.failure],
    )


def range_result(response: pb.RangeResponse, revision: int = 0) -> RangeResult:
    return RangeResult(
        [kv_from_pb(kv) for kv in response.kvs],
        revision or response.header.revision,
        response.count,
        response.more,
    )


def delete_result(response: pb.DeleteRangeResponse, revision: int = 0) -> DeleteResult:
    return DeleteResult(
        revision or response.header.revision,
        response.deleted,
        [kv_from_pb(kv) for kv in response.prev_kvs],
    )


def txn_result(response: pb.TxnResponse, revision: int = 0) -> TxnResult:
    """A txn's outcome; every response in it carries the txn's revision, as the store's."""
    revision = revision or response.header.revision
    results: list[RangeResult | PutResult | DeleteResult | TxnResult] = []
    for op in response.responses:
        match op.WhichOneof("response"):
            case "response_range":
                results.append(range_result(op.response_range, revision))
            case "response_put":
                put = op.response_put
                prev = kv_from_pb(put.prev_kv) if put.HasField("prev_kv") else None
                results.append(PutResult(revision, prev))
            case "response_delete_range":
                results.append(delete_result(op.response_delete_range, revision))
            case "response_txn":
                results.append(txn_result(op.response_txn, revision))
    return TxnResult(response.succeeded, results, revision)
