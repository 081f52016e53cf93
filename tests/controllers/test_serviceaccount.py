"""The service account controller: a `default` ServiceAccount in every live namespace."""

from __future__ import annotations

from pathlib import Path

from kubeactors.api import Namespace, ObjectMeta, ServiceAccount
from kubeactors.controllers import DEFAULT_SERVICE_ACCOUNT, ServiceAccountsController

from ..api.harness import running_api
from .faults import wait_for


def _accounts(accounts: list[ServiceAccount]) -> set[tuple[str, str]]:
    """The accounts outside the namespaces the API server makes itself."""
    return {
        (a.metadata.namespace, a.metadata.name)
        for a in accounts
        if a.metadata.namespace not in ("default", "kube-system", "kube-public", "kube-node-lease")
    }


async def test_every_namespace_gets_a_default_account_back_when_deleted(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        client = h.client
        await client.create(Namespace(metadata=ObjectMeta(name="before")))
        await client.create(ServiceAccount(metadata=ObjectMeta(name="builder", namespace="before")))
        h.system.spawn(lambda: ServiceAccountsController(client), name="serviceaccount")
        await client.create(Namespace(metadata=ObjectMeta(name="after")))
        wanted = {("before", "builder"), ("before", "default"), ("after", "default")}
        await wait_for(client, ServiceAccount, lambda a: wanted <= _accounts(a))
        await client.delete(ServiceAccount, DEFAULT_SERVICE_ACCOUNT, "after")
        await client.delete(ServiceAccount, "builder", "before")  # not the controller's
        wanted -= {("before", "builder")}
        accounts = await wait_for(client, ServiceAccount, lambda a: wanted == _accounts(a))
        recreated = next(a for a in accounts if a.metadata.namespace == "after")
        assert recreated.metadata.uid  # a new object, made again


async def test_a_terminating_namespace_gets_none(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        client = h.client
        await client.create(Namespace(metadata=ObjectMeta(name="going", finalizers=["hold"])))
        await client.delete(Namespace, "going")  # held by its finalizer: terminating
        await client.create(Namespace(metadata=ObjectMeta(name="staying")))
        h.system.spawn(lambda: ServiceAccountsController(client), name="serviceaccount")
        await wait_for(client, ServiceAccount, lambda a: ("staying", "default") in _accounts(a))
        assert _accounts((await client.list(ServiceAccount)).items) == {("staying", "default")}
