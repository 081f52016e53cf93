"""A real etcd for tests and benchmarks: the process, and a client over its JSON gateway.

etcd's gRPC-gateway speaks JSON over HTTP (`/v3/kv/range`, `/v3/watch`, ...), with
keys and values in base64 and 64-bit integers as strings; talking to it with httpx
avoids a gRPC dependency. Results come back as kubeactors.store's own types, and
errors as the matching `StoreError` subclasses, so one test can check both stores.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from kubeactors.store import (
    CompactedError,
    Compare,
    CompareTarget,
    DeleteOp,
    DeleteResult,
    DuplicateKeyError,
    EmptyKeyError,
    Event,
    EventType,
    FutureRevisionError,
    KeyNotFoundError,
    KeyValue,
    LeaseExistsError,
    LeaseGrantResult,
    LeaseNotFoundError,
    LeaseProvidedError,
    LeaseTimeToLive,
    Op,
    PutOp,
    PutResult,
    RangeOp,
    RangeResult,
    RequestTooLargeError,
    StoreError,
    TooManyOpsError,
    TxnOp,
    TxnResult,
    ValueProvidedError,
    WatchCancelledError,
)

__all__ = ["EtcdClient", "EtcdServer", "etcd_available"]

_ERRORS: dict[str, type[StoreError]] = {
    "required revision has been compacted": CompactedError,
    "required revision is a future revision": FutureRevisionError,
    "key is not provided": EmptyKeyError,
    "too many operations in txn request": TooManyOpsError,
    "duplicate key given in txn request": DuplicateKeyError,
    "request is too large": RequestTooLargeError,
    "requested lease not found": LeaseNotFoundError,
    "lease already exists": LeaseExistsError,
    "key not found": KeyNotFoundError,
    "value is provided": ValueProvidedError,
    "lease is provided": LeaseProvidedError,
}


def etcd_available() -> bool:
    return shutil.which("etcd") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EtcdServer:
    """One etcd member on loopback ports with a temporary data dir: `with EtcdServer():`."""

    def __init__(self, *, extra_args: list[str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._extra = extra_args or []
        self._dir = tempfile.mkdtemp(prefix="etcd-")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EtcdServer:
        peer = _free_port()
        self._log = open(Path(self._dir) / "etcd.log", "wb")
        self._process = subprocess.Popen(
            [
                "etcd",
                "--name=test",
                f"--data-dir={self._dir}/data",
                f"--listen-client-urls={self.url}",
                f"--advertise-client-urls={self.url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=test=http://127.0.0.1:{peer}",
                *self._extra,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"etcd exited early, see {self._dir}/etcd.log")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("etcd did not become healthy within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _kv(raw: dict[str, Any]) -> KeyValue:
    return KeyValue(
        _unb64(raw.get("key")),
        _unb64(raw.get("value")),
        int(raw.get("create_revision", 0)),
        int(raw.get("mod_revision", 0)),
        int(raw.get("version", 0)),
        int(raw.get("lease", 0)),
    )


def _revision(raw: dict[str, Any]) -> int:
    return int(raw.get("header", {}).get("revision", 0))


def _range_body(op: RangeOp) -> dict[str, Any]:
    body: dict[str, Any] = {"key": _b64(op.key)}
    if op.range_end is not None:
        body["range_end"] = _b64(op.range_end)
    for name in ("limit", "revision", "keys_only", "count_only"):
        if getattr(op, name):
            body[name] = getattr(op, name)
    return body


def _put_body(op: PutOp) -> dict[str, Any]:
    body: dict[str, Any] = {"key": _b64(op.key), "value": _b64(op.value)}
    for name in ("lease", "prev_kv", "ignore_value", "ignore_lease"):
        if getattr(op, name):
            body[name] = getattr(op, name)
    return body


def _delete_body(op: DeleteOp) -> dict[str, Any]:
    body: dict[str, Any] = {"key": _b64(op.key)}
    if op.range_end is not None:
        body["range_end"] = _b64(op.range_end)
    if op.prev_kv:
        body["prev_kv"] = True
    return body


_COMPARE_FIELD = {
    CompareTarget.VERSION: "version",
    CompareTarget.CREATE: "create_revision",
    CompareTarget.MOD: "mod_revision",
    CompareTarget.LEASE: "lease",
    CompareTarget.VALUE: "value",
}


def _compare_body(compare: Compare) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": _b64(compare.key),
        "target": compare.target.value,
        "result": compare.result.value,
    }
    if compare.range_end is not None:
        body["range_end"] = _b64(compare.range_end)
    value = compare.value
    body[_COMPARE_FIELD[compare.target]] = _b64(value) if isinstance(value, bytes) else value
    return body


def _op_body(op: Op) -> dict[str, Any]:
    match op:
        case RangeOp():
            return {"request_range": _range_body(op)}
        case PutOp():
            return {"request_put": _put_body(op)}
        case DeleteOp():
            return {"request_delete_range": _delete_body(op)}
        case TxnOp():
            return {"request_txn": _txn_body(op)}


def _txn_body(txn: TxnOp) -> dict[str, Any]:
    return {
        "compare": [_compare_body(c) for c in txn.compares],
        "success": [_op_body(op) for op in txn.success],
        "failure": [_op_body(op) for op in txn.failure],
    }


def _range_result(raw: dict[str, Any], revision: int) -> RangeResult:
    kvs = [_kv(kv) for kv in raw.get("kvs", [])]
    return RangeResult(kvs, revision, int(raw.get("count", 0)), bool(raw.get("more", False)))


def _txn_result(raw: dict[str, Any], revision: int) -> TxnResult:
    responses: list[RangeResult | PutResult | DeleteResult | TxnResult] = []
    for response in raw.get("responses", []):
        if "response_range" in response:
            responses.append(_range_result(response["response_range"], revision))
        elif "response_put" in response:
            prev = response["response_put"].get("prev_kv")
            responses.append(PutResult(revision, _kv(prev) if prev else None))
        elif "response_delete_range" in response:
            body = response["response_delete_range"]
            prev_kvs = [_kv(kv) for kv in body.get("prev_kvs", [])]
            responses.append(DeleteResult(revision, int(body.get("deleted", 0)), prev_kvs))
        else:
            responses.append(_txn_result(response.get("response_txn", {}), revision))
    return TxnResult(bool(raw.get("succeeded", False)), responses, revision)


def _event(raw: dict[str, Any]) -> Event:
    kind = EventType.DELETE if raw.get("type") == "DELETE" else EventType.PUT
    prev = raw.get("prev_kv")
    return Event(kind, _kv(raw["kv"]), _kv(prev) if prev else None)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer


class _HttpPool:
    """A minimal keep-alive HTTP/1.1 client for unary JSON calls.

    httpx writes a request's headers and body separately, which with Nagle's
    algorithm and delayed ACKs stalls each request for tens of milliseconds against
    etcd (about 220 requests/s with 64 connections): this client sends each request
    in one write on TCP_NODELAY sockets, so etcd is measured, not the client.
    """

    def __init__(self, host: str, port: int, size: int) -> None:
        self._host = host
        self._port = port
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(reader, writer)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        async with self._slots:
            reused = bool(self._idle)
            connection = self._idle.pop() if reused else await self._connect()
            try:
                status, data, keep = await self._exchange(connection, path, body)
            except ConnectionError:
                connection.writer.close()
                if not reused:
                    raise
                # The server closed an idle connection: once more on a fresh one.
                connection = await self._connect()
                status, data, keep = await self._exchange(connection, path, body)
            except BaseException:
                connection.writer.close()
                raise
            if keep:
                self._idle.append(connection)
            else:
                connection.writer.close()
            return status, data

    async def _exchange(
        self, connection: _Connection, path: str, body: bytes
    ) -> tuple[int, bytes, bool]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        connection.writer.write(head.encode() + body)
        reader = connection.reader
        status_line = await reader.readline()
        while status_line == b"\r\n":
            # The gateway's error responses can end with a stray CRLF after the body.
            status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("etcd closed the connection")
        status = int(status_line.split()[1])
        length = -1
        chunked = False
        keep = True
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                keep = False
        if not chunked:
            return status, await reader.readexactly(length), keep
        parts: list[bytes] = []
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                return status, b"".join(parts), keep
            parts.append(await reader.readexactly(size))
            await reader.readline()

    async def aclose(self) -> None:
        for connection in self._idle:
            connection.writer.close()
        self._idle.clear()


class EtcdClient:
    """etcd's KV, Watch and Lease services through the JSON gateway."""

    def __init__(self, url: str, *, connections: int = 64) -> None:
        self._http = httpx.AsyncClient(base_url=url, timeout=30)
        host, _, port = url.removeprefix("http://").partition(":")
        self._pool = _HttpPool(host, int(port), connections)

    async def aclose(self) -> None:
        await self._pool.aclose()
        await self._http.aclose()

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, raw = await self._pool.post(path, json.dumps(body).encode())
        data: dict[str, Any] = json.loads(raw)
        if status != 200 or "error" in data:
            raise _error(str(data.get("message") or data.get("error")))
        return data

    async def put(self, op: PutOp) -> PutResult:
        raw = await self.call("/v3/kv/put", _put_body(op))
        prev = raw.get("prev_kv")
        return PutResult(_revision(raw), _kv(prev) if prev else None)

    async def range(self, op: RangeOp) -> RangeResult:
        raw = await self.call("/v3/kv/range", _range_body(op))
        return _range_result(raw, _revision(raw))

    async def delete_range(self, op: DeleteOp) -> DeleteResult:
        raw = await self.call("/v3/kv/deleterange", _delete_body(op))
        prev_kvs = [_kv(kv) for kv in raw.get("prev_kvs", [])]
        return DeleteResult(_revision(raw), int(raw.get("deleted", 0)), prev_kvs)

    async def txn(self, txn: TxnOp) -> TxnResult:
        raw = await self.call("/v3/kv/txn", _txn_body(txn))
        return _txn_result(raw, _revision(raw))

    async def compact(self, revision: int) -> None:
        await self.call("/v3/kv/compaction", {"revision": revision, "physical": True})

    async def revision(self) -> int:
        raw = await self.call("/v3/kv/range", {"key": _b64(b"\0"), "count_only": True})
        return _revision(raw)

    async def lease_grant(self, ttl: int, lease_id: int = 0) -> LeaseGrantResult:
        raw = await self.call("/v3/lease/grant", {"TTL": ttl, "ID": lease_id})
        return LeaseGrantResult(int(raw["ID"]), int(raw["TTL"]), _revision(raw))

    async def lease_revoke(self, lease_id: int) -> int:
        raw = await self.call("/v3/kv/lease/revoke", {"ID": lease_id})
        return _revision(raw)

    async def lease_keep_alive(self, lease_id: int) -> int:
        async with self._http.stream(
            "POST", "/v3/lease/keepalive", content=json.dumps({"ID": lease_id})
        ) as response:
            async for line in response.aiter_lines():
                data = json.loads(line)
                if "error" in data:
                    raise _error(str(data["error"].get("message", data["error"])))
                result = data.get("result", {})
                ttl = int(result.get("TTL", 0))
                if ttl <= 0:
                    raise LeaseNotFoundError(lease_id)
                return ttl
        raise LeaseNotFoundError(lease_id)

    async def lease_time_to_live(self, lease_id: int, keys: bool = False) -> LeaseTimeToLive:
        raw = await self.call("/v3/kv/lease/timetolive", {"ID": lease_id, "keys": keys})
        return LeaseTimeToLive(
            int(raw.get("ID", lease_id)),
            int(raw.get("TTL", 0)),
            int(raw.get("grantedTTL", 0)),
            [_unb64(k) for k in raw.get("keys", [])],
        )

    async def watch(self, request: dict[str, Any]) -> AsyncIterator[tuple[int, list[Event]]]:
        """Yield (header revision, events) per response, the first (empty) when the
        watch is registered; raise when etcd cancels it."""
        async with self._http.stream(
            "POST", "/v3/watch", content=json.dumps({"create_request": request}), timeout=None
        ) as response:
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                data = json.loads(line)
                if "error" in data:
                    raise _error(str(data["error"].get("message", data["error"])))
                result = data.get("result", {})
                if result.get("canceled"):
                    compact = int(result.get("compact_revision", 0))
                    raise WatchCancelledError(
                        str(result.get("cancel_reason", "cancelled")), compact
                    )
                if result.get("created"):
                    yield _revision(result), []
                    continue
                events = [_event(e) for e in result.get("events", [])]
                yield _revision(result), events


def _error(message: str) -> StoreError:
    for fragment, kind in _ERRORS.items():
        if fragment in message:
            error = kind.__new__(kind)
            StoreError.__init__(error, message)
            return error
    return StoreError(message)
