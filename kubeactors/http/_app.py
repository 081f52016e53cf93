"""`HttpApi`: the ASGI application that serves the Kubernetes REST API over a `Client`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..actors import Clock
from ..api import ApiError, TokenAuthenticator, UserInfo
from ..client import Client
from ._discovery import (
    AGGREGATED_MEDIA_TYPE,
    aggregated_discovery,
    api_group,
    api_group_list,
    api_resource_list,
    api_versions,
)
from ._errors import (
    internal_error,
    method_not_allowed,
    path_not_found,
    status_response,
    unauthorized,
)
from ._impersonation import IMPERSONATED_SCOPE_KEY, impersonated
from ._kinds import KindIndex, default_kinds
from ._logs import LogReader
from ._media import parse_accept, wants
from ._metrics import Metrics
from ._openapi import openapi_document, openapi_root
from ._paths import authorize_path
from ._rest import TOKEN_SCOPE_KEY, RestApi, resolve
from ._watch import Watches

__all__ = ["SERVER_VERSION", "HttpApi"]

logger = logging.getLogger(__name__)

SERVER_VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0",
    "gitCommit": "kubeactors",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T00:00:00Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
"""The Kubernetes release whose API this server implements (kubectl picks its skew by it)."""

# Paths anyone may read, as upstream's system:public-info-viewer role allows.
_PUBLIC = ("/version", "/healthz", "/livez", "/readyz")
_encoder = msgspec.json.Encoder()
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _json(payload: Any, media_type: str = "application/json") -> Response:
    return Response(_encoder.encode(payload), media_type=media_type)


class HttpApi:
    """Kubernetes' REST paths, discovery, health, version and metrics, as one ASGI app.

    Every request but the public ones needs a bearer token from `tokens` (when given).
    `logs` reads container logs from the nodes (for `pods/<name>/log`). With
    `forward_tokens`, each request reaches the API server with its caller's bearer
    token, so that the API server's authenticator and RBAC decide as whom it runs
    (the API server must know the same tokens); otherwise as `client`'s identity.
    `close()` ends the open watches, so that a server can shut down at once.
    """

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock,
        wall_clock: Callable[[], datetime],
        tokens: TokenAuthenticator | None = None,
        kinds: KindIndex | None = None,
        address: str = "",
        logs: LogReader | None = None,
        forward_tokens: bool = False,
    ) -> None:
        self.kinds = kinds if kinds is not None else default_kinds()
        self.metrics = Metrics()
        self.watches = Watches()
        self.tokens = tokens
        self.address = address
        self._clock = clock
        self._client = client
        self.rest = RestApi(
            client,
            clock=clock,
            wall_clock=wall_clock,
            metrics=self.metrics,
            watches=self.watches,
            logs=logs,
            forward_tokens=forward_tokens,
        )
        self._openapi_cache: dict[str, bytes] = {}
        self._openapi_generation = self.kinds.generation
        self._app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=_ALL_METHODS)])

    def close(self) -> None:
        self.watches.close_all()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.tokens is not None:
            path: str = scope["path"]
            if not path.startswith(_PUBLIC) and self._authenticate(scope) is None:
                self.metrics.requests[(scope["method"].lower(), "", 401)] += 1
                await status_response(unauthorized())(scope, receive, send)
                return
        await self._app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> UserInfo | None:
        assert self.tokens is not None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    scope[TOKEN_SCOPE_KEY] = token.strip()
                    return self.tokens.authenticate(token.strip())
        return None

    async def _dispatch(self, request: Request) -> Response:
        raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
        segments = [unquote(part) for part in raw_path.decode("latin-1").split("/") if part]
        start = self._clock.now()
        verb, resource = request.method.lower(), ""
        try:
            caller = self._caller(request)
            if caller is not None:
                who = await impersonated(request.headers, caller)
                if who is not None:
                    request.scope[IMPERSONATED_SCOPE_KEY] = who
            if (
                segments
                and segments[0] in ("api", "apis")
                and len(segments) > 2 + (segments[0] == "apis")
            ):
                group, version, rest = (
                    ("", segments[1], segments[2:])
                    if segments[0] == "api"
                    else (segments[1], segments[2], segments[3:])
                )
                target = resolve(self.kinds, group, version, rest)
                resource = target.kind.plural
                response = await self.rest.handle(request, target)
            else:
                if self.rest.forward_tokens:
                    await self._authorize_path(request, segments)
                response = await self._non_resource(request, segments)
        except ApiError as error:
            response = status_response(error)
        except Exception as error:
            logger.exception("request %s %s failed", request.method, request.url.path)
            response = status_response(internal_error(f"Internal error occurred: {error}"))
        if request.query_params.get("watch", "") in ("1", "true", "True"):
            verb = "watch"
        self.metrics.observe(verb, resource, response.status_code, self._clock.now() - start)
        return response

    def _caller(self, request: Request) -> Client | None:
        """With tokens forwarded, the client that asks as the request's caller."""
        token = request.scope.get(TOKEN_SCOPE_KEY, "")
        return self._client.with_token(token) if self.rest.forward_tokens and token else None

    async def _authorize_path(self, request: Request, segments: list[str]) -> None:
        """With tokens forwarded, RBAC decides who reads discovery, OpenAPI and
        metrics too (`nonResourceURLs`); the health and version paths stay public."""
        path = "/" + "/".join(segments)
        caller = self._caller(request)
        if caller is None or path.startswith(_PUBLIC):
            return
        who = request.scope.get(IMPERSONATED_SCOPE_KEY)
        if who is not None:
            caller = self._client.as_user(who)
        await authorize_path(caller, path, request.method)

    async def _non_resource(self, request: Request, segments: list[str]) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise method_not_allowed(request.method, "/" + "/".join(segments))
        head = segments[0] if segments else ""
        if head in ("healthz", "livez", "readyz"):
            return PlainTextResponse("ok")
        if head == "version" and len(segments) == 1:
            return _json(SERVER_VERSION)
        if head == "metrics" and len(segments) == 1:
            return PlainTextResponse(
                await self.metrics.render(), media_type="text/plain; version=0.0.4"
            )
        if head == "openapi" and segments[1:2] == ["v3"]:
            return self._openapi(segments[2:])
        if head == "api":
            return self._core_discovery(request, segments[1:])
        if head == "apis":
            return self._group_discovery(request, segments[1:])
        raise path_not_found()

    def _openapi(self, rest: list[str]) -> Response:
        # Each document is generated once for as long as the served kinds stay the same.
        if self._openapi_generation != self.kinds.generation:
            self._openapi_cache.clear()
            self._openapi_generation = self.kinds.generation
        key = "/".join(rest)
        document = self._openapi_cache.get(key)
        if document is None:
            if not rest:
                document = _encoder.encode(openapi_root(self.kinds))
            elif rest[0] == "api" and len(rest) == 2:
                document = openapi_document(self.kinds, "", rest[1])
            elif rest[0] == "apis" and len(rest) == 3:
                document = openapi_document(self.kinds, rest[1], rest[2])
            if document is None:
                raise path_not_found()
            self._openapi_cache[key] = document
        return Response(document, media_type="application/json")

    def _aggregated(self, request: Request) -> str | None:
        accept = parse_accept(request.headers.get("accept", ""))
        return wants(accept, "APIGroupDiscoveryList", "apidiscovery.k8s.io", ("v2", "v2beta1"))

    def _core_discovery(self, request: Request, rest: list[str]) -> Response:
        if not rest:
            version = self._aggregated(request)
            if version is not None:
                return _json(
                    aggregated_discovery(self.kinds, core=True, version=version),
                    AGGREGATED_MEDIA_TYPE.format(version=version),
                )
            return _json(api_versions(self.address))
        resources = api_resource_list(self.kinds, "", rest[0]) if len(rest) == 1 else None
        if resources is None:
            raise path_not_found()
        return _json(resources)

    def _group_discovery(self, request: Request, rest: list[str]) -> Response:
        if not rest:
            version = self._aggregated(request)
            if version is not None:
                return _json(
                    aggregated_discovery(self.kinds, core=False, version=version),
                    AGGREGATED_MEDIA_TYPE.format(version=version),
                )
            return _json(api_group_list(self.kinds))
        groups = self.kinds.groups()
        if rest[0] not in groups or not rest[0]:
            raise path_not_found()
        if len(rest) == 1:
            return _json(api_group(rest[0], groups[rest[0]]))
        resources = api_resource_list(self.kinds, rest[0], rest[1]) if len(rest) == 2 else None
        if resources is None:
            raise path_not_found()
        return _json(resources)
