"""A served API (store, API server, HTTPS) and a kubectl that talks to it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from kubeactors.actors import ActorSystem
from kubeactors.api import (
    KINDS,
    SYSTEM_MASTERS,
    ApiServer,
    Container,
    KindRegistry,
    Node,
    NodeCondition,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    TokenAuthenticator,
    UserInfo,
    default_authorizer,
)
from kubeactors.client import Client
from kubeactors.http import HttpServer, KindIndex, LogReader, ensure_token_file
from kubeactors.store import Store

KUBECTL = "/usr/bin/kubectl"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Served:
    client: Client
    server: HttpServer
    cache_dir: Path
    kinds: KindRegistry = field(default_factory=lambda: KindRegistry(KINDS))

    async def kubectl(self, *args: str, token: str | None = None) -> tuple[int, str, str]:
        """Run kubectl against the server: (exit status, stdout, stderr)."""
        command = [
            KUBECTL,
            "--kubeconfig",
            str(self.server.kubeconfig),
            "--cache-dir",
            str(self.cache_dir),
            "--request-timeout",
            "30s",
        ]
        if token is not None:
            command += ["--token", token]
        result = await anyio.run_process([*command, *args], check=False)
        return result.returncode, result.stdout.decode(), result.stderr.decode()

    async def kubectl_json(self, *args: str) -> Any:
        status, out, err = await self.kubectl(*args, "-o", "json")
        assert status == 0, err
        return json.loads(out)


def ready_node(name: str, **labels: str) -> Node:
    return Node(
        metadata=ObjectMeta(name=name, labels=labels),
        status=NodeStatus(
            capacity={"cpu": "4", "memory": "16Gi", "pods": "110"},
            allocatable={"cpu": "4", "memory": "16Gi", "pods": "110"},
            conditions=[NodeCondition(type="Ready", status="True")],
        ),
    )


def pod(name: str, namespace: str = "default", node: str = "", **labels: str) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name, namespace=namespace, labels=labels),
        spec=PodSpec(containers=[Container(name="app", image="nginx")], node_name=node),
    )


@asynccontextmanager
async def served(
    directory: Path,
    *,
    tls: bool = True,
    logs: LogReader | None = None,
    users: dict[str, str] | None = None,
) -> AsyncIterator[Served]:
    """An API server over a fresh store, served over HTTPS on a free loopback port.

    With `users` (token: user name, besides the admin the server makes), the API
    server authenticates each HTTP caller by its token and authorises it with RBAC;
    `Served.client` then acts as a cluster admin.
    """
    async with ActorSystem(seed=0, ask_timeout=30.0) as system:
        clock = system.clock
        origin = clock.now()

        def wall_clock() -> datetime:
            return EPOCH + timedelta(seconds=clock.now() - origin)

        store = Store.spawn(system.root, directory / "store.db")
        authenticator, authorizer, user = None, None, None
        if users is not None:
            tokens = directory / "tokens.csv"
            ensure_token_file(tokens)
            with tokens.open("a") as lines:
                lines.writelines(f"{token},{name},{name}\n" for token, name in users.items())
            authenticator = TokenAuthenticator.from_csv(tokens.read_text())
            authorizer = default_authorizer()
            user = UserInfo("test-admin", "test-admin", (SYSTEM_MASTERS,))
        kinds = KindRegistry(KINDS)
        api = system.spawn(
            lambda: ApiServer(
                store.ref,
                wall_clock=wall_clock,
                authenticator=authenticator,
                authorizer=authorizer,
                kinds=kinds,
            ),
            name="apiserver",
        )
        client = Client(api, user=user)
        server = HttpServer(
            client,
            directory,
            clock=clock,
            wall_clock=wall_clock,
            port=0,
            tls=tls,
            logs=logs,
            forward_tokens=users is not None,
            kinds=KindIndex.following(kinds),
        )
        async with server:
            yield Served(client, server, directory / "kubectl-cache", kinds)
