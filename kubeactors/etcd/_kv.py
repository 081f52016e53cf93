"""The KV service: Range, Put, DeleteRange, Txn and Compact over the store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from ..store import (
    Compare,
    CompareResult,
    CompareTarget,
    DeleteOp,
    DeleteResult,
    KeyValue,
    Op,
    PutOp,
    PutResult,
    RangeOp,
    RangeResult,
    Store,
    StoreError,
    TxnOp,
    TxnResult,
)
from . import _errors as errors
from ._convert import Identity, add_kvs, kv_to_pb, range_end_of
from ._proto import rpc_pb2

__all__ = ["KeyValueService", "Limits"]

_RangeRequest = rpc_pb2.RangeRequest
_Compare = rpc_pb2.Compare

_SORT_KEYS: dict[int, Callable[[KeyValue], bytes | int]] = {
    _RangeRequest.KEY: lambda kv: kv.key,
    _RangeRequest.VERSION: lambda kv: kv.version,
    _RangeRequest.CREATE: lambda kv: kv.create_revision,
    _RangeRequest.MOD: lambda kv: kv.mod_revision,
    _RangeRequest.VALUE: lambda kv: kv.value,
}
_COMPARE_RESULTS = {
    _Compare.EQUAL: CompareResult.EQUAL,
    _Compare.GREATER: CompareResult.GREATER,
    _Compare.LESS: CompareResult.LESS,
    _Compare.NOT_EQUAL: CompareResult.NOT_EQUAL,
}
_COMPARE_TARGETS = {
    _Compare.VERSION: (CompareTarget.VERSION, "version"),
    _Compare.CREATE: (CompareTarget.CREATE, "create_revision"),
    _Compare.MOD: (CompareTarget.MOD, "mod_revision"),
    _Compare.VALUE: (CompareTarget.VALUE, "value"),
    _Compare.LEASE: (CompareTarget.LEASE, "lease"),
}


class _Sized(Protocol):
    def ByteSize(self) -> int: ...  # noqa: N802 (protobuf's name)


class Limits:
    """etcd's request limits, with its defaults (`--max-request-bytes`, `--max-txn-ops`)."""

    def __init__(self, *, max_request_bytes: int = 1_572_864, max_txn_ops: int = 128) -> None:
        if max_request_bytes <= 0:
            raise ValueError(f"max_request_bytes must be positive, got {max_request_bytes}")
        if max_txn_ops <= 0:
            raise ValueError(f"max_txn_ops must be positive, got {max_txn_ops}")
        self.max_request_bytes = max_request_bytes
        self.max_txn_ops = max_txn_ops


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn the store's errors into etcd's."""
    try:
        yield
    except StoreError as error:
        raise errors.from_store_error(error) from error


class KeyValueService:
    """Answers etcd's KV requests from a `Store`; raises `EtcdError` for etcd's errors.

    The store does the MVCC work (revisions, history, txn, compaction); this layer
    converts messages and adds what etcd does above its MVCC layer: sorting and the
    min/max revision filters of a range, and the check of the request's wire size.
    """

    def __init__(self, store: Store, identity: Identity, limits: Limits) -> None:
        self._store = store
        self._identity = identity
        self._limits = limits

    def _check_size(self, request: _Sized) -> None:
        if request.ByteSize() > self._limits.max_request_bytes:
            raise errors.request_too_large()

    async def current_revision(self) -> int:
        """The store's newest committed revision."""
        with store_errors():
            return (await self._store.status()).revision

    async def range(self, request: rpc_pb2.RangeRequest) -> rpc_pb2.RangeResponse:
        self._check_size(request)
        if not request.key:
            raise errors.empty_key()  # etcd refuses it even with a range_end
        whole = _reads_whole_range(request)
        with store_errors():
            result = await self._store.range(
                request.key,
                request.range_end or None,
                # etcd treats a negative limit or revision as none.
                limit=0 if whole else max(request.limit, 0),
                revision=max(request.revision, 0),
                keys_only=request.keys_only,
                count_only=request.count_only,
            )
        return self._range_response(request, result, whole)

    def _range_response(
        self, request: rpc_pb2.RangeRequest, result: RangeResult, whole: bool | None = None
    ) -> rpc_pb2.RangeResponse:
        response = rpc_pb2.RangeResponse(count=result.count, more=result.more)
        self._identity.fill_header(response.header, result.revision)
        kvs: Sequence[KeyValue] = result.kvs
        if whole is None:
            whole = _reads_whole_range(request)
        if whole and not request.count_only:
            kvs = [kv for kv in kvs if _passes_filters(kv, request)]
            order = request.sort_order
            if order == _RangeRequest.NONE and request.sort_target != _RangeRequest.KEY:
                order = _RangeRequest.ASCEND  # etcd sorts ascending when only a target is set
            if order != _RangeRequest.NONE:
                kvs = sorted(
                    kvs,
                    key=_SORT_KEYS[request.sort_target],
                    reverse=order == _RangeRequest.DESCEND,
                )
            response.more = bool(request.limit) and len(kvs) > request.limit
            if response.more:
                kvs = kvs[: request.limit]
        add_kvs(response.kvs, kvs)
        return response

    async def put(self, request: rpc_pb2.PutRequest) -> rpc_pb2.PutResponse:
        self._check_size(request)
        with store_errors():
            result = await self._store.put(
                request.key,
                request.value,
                lease=request.lease,
                ignore_value=request.ignore_value,
                ignore_lease=request.ignore_lease,
            )
        response = rpc_pb2.PutResponse()
        self._identity.fill_header(response.header, result.revision)
        if request.prev_kv and result.prev_kv is not None:
            response.prev_kv.CopyFrom(kv_to_pb(result.prev_kv))
        return response

    async def delete_range(
        self, request: rpc_pb2.DeleteRangeRequest
    ) -> rpc_pb2.DeleteRangeResponse:
        self._check_size(request)
        op = _delete_op(request)
        with store_errors():
            result = await self._store.delete_range(op.key, op.range_end, prev_kv=op.prev_kv)
        return self._delete_response(result)

    def _delete_response(self, result: DeleteResult) -> rpc_pb2.DeleteRangeResponse:
        return rpc_pb2.DeleteRangeResponse(
            header=self._identity.header(result.revision),
            deleted=result.deleted,
            prev_kvs=[kv_to_pb(kv) for kv in result.prev_kvs],
        )

    async def txn(self, request: rpc_pb2.TxnRequest) -> rpc_pb2.TxnResponse:
        self._check_size(request)
        op = _txn_op(request)
        with store_errors():
            result = await self._store.txn(op.compares, op.success, op.failure)
        return self._txn_response(request, result)

    def _txn_response(self, request: rpc_pb2.TxnRequest, result: TxnResult) -> rpc_pb2.TxnResponse:
        ops = request.success if result.succeeded else request.failure
        response = rpc_pb2.TxnResponse(
            header=self._identity.header(result.revision), succeeded=result.succeeded
        )
        for op, outcome in zip(ops, result.responses, strict=True):
            match outcome:
                case RangeResult():
                    ranged = self._range_response(op.request_range, outcome)
                    response.responses.add(response_range=ranged)
                case PutResult():
                    put = rpc_pb2.PutResponse(header=self._identity.header(outcome.revision))
                    if outcome.prev_kv is not None:
                        put.prev_kv.CopyFrom(kv_to_pb(outcome.prev_kv))
                    response.responses.add(response_put=put)
                case DeleteResult():
                    response.responses.add(response_delete_range=self._delete_response(outcome))
                case TxnResult():
                    nested = self._txn_response(op.request_txn, outcome)
                    response.responses.add(response_txn=nested)
        return response

    async def compact(self, request: rpc_pb2.CompactionRequest) -> rpc_pb2.CompactionResponse:
        with store_errors():
            await self._store.compact(request.revision)
            revision = (await self._store.status()).revision
        return rpc_pb2.CompactionResponse(header=self._identity.header(revision))


def _reads_whole_range(request: rpc_pb2.RangeRequest) -> bool:
    """Whether etcd reads the range without its limit: to sort or filter it first."""
    sorted_by_key = request.sort_target == _RangeRequest.KEY and request.sort_order in (
        _RangeRequest.NONE,
        _RangeRequest.ASCEND,
    )
    filtered = bool(
        request.min_mod_revision
        or request.max_mod_revision
        or request.min_create_revision
        or request.max_create_revision
    )
    return filtered or not sorted_by_key


def _passes_filters(kv: KeyValue, request: rpc_pb2.RangeRequest) -> bool:
    return not (
        (request.min_mod_revision and kv.mod_revision < request.min_mod_revision)
        or (request.max_mod_revision and kv.mod_revision > request.max_mod_revision)
        or (request.min_create_revision and kv.create_revision < request.min_create_revision)
        or (request.max_create_revision and kv.create_revision > request.max_create_revision)
    )


def _range_op(request: rpc_pb2.RangeRequest) -> RangeOp:
    if not request.key:
        raise errors.empty_key()  # etcd refuses it even with a range_end
    # etcd treats a negative limit or revision as none; the store wants them absent.
    return RangeOp(
        request.key,
        range_end_of(request.range_end),
        limit=0 if _reads_whole_range(request) else max(request.limit, 0),
        revision=max(request.revision, 0),
        keys_only=request.keys_only,
        count_only=request.count_only,
    )


def _delete_op(request: rpc_pb2.DeleteRangeRequest) -> DeleteOp:
    if not request.key:
        raise errors.empty_key()
    return DeleteOp(request.key, range_end_of(request.range_end), request.prev_kv)


def _put_op(request: rpc_pb2.PutRequest) -> PutOp:
    return PutOp(
        request.key,
        request.value,
        request.lease,
        request.prev_kv,
        request.ignore_value,
        request.ignore_lease,
    )


def _compare(compare: rpc_pb2.Compare) -> Compare:
    result = _COMPARE_RESULTS.get(compare.result)
    target = _COMPARE_TARGETS.get(compare.target)
    if result is None or target is None:
        raise errors.invalid_argument(
            f"unknown compare result {compare.result} or target {compare.target}"
        )
    value: int | bytes = getattr(compare, target[1])
    return Compare(compare.key, target[0], result, value, range_end_of(compare.range_end))


def _op(request: rpc_pb2.RequestOp) -> Op:
    match request.WhichOneof("request"):
        case "request_range":
            return _range_op(request.request_range)
        case "request_put":
            return _put_op(request.request_put)
        case "request_delete_range":
            return _delete_op(request.request_delete_range)
        case "request_txn":
            return _txn_op(request.request_txn)
    raise errors.invalid_argument("a txn operation has no request")


def _txn_op(request: rpc_pb2.TxnRequest) -> TxnOp:
    return TxnOp(
        [_compare(compare) for compare in request.compare],
        [_op(op) for op in request.success],
        [_op(op) for op in request.failure],
    )
