"""The service account controller: every namespace has a ServiceAccount `default`.

As upstream's, it makes `default` when a namespace appears and again if it is
deleted, and leaves terminating namespaces alone. Pods keep the
`serviceAccountName` they were given (kubeactors has no ServiceAccount admission and
issues no service account tokens): the accounts are there for RBAC subjects and for
manifests that name them.
"""

from __future__ import annotations

from ..api import ApiError, Namespace, ObjectMeta, ServiceAccount
from ..client import Informer
from ._base import Controller

__all__ = ["DEFAULT_SERVICE_ACCOUNT", "ServiceAccountsController"]

DEFAULT_SERVICE_ACCOUNT = "default"


class ServiceAccountsController(Controller):
    name = "serviceaccount"
    workers = 1

    def setup(self) -> None:
        self.namespaces: Informer[Namespace] = self.informer(Namespace)
        self.namespaces.add_handler(
            on_add=lambda ns: self.enqueue(ns.metadata.name),
            on_update=lambda old, new: self.enqueue(new.metadata.name),
        )
        self.accounts: Informer[ServiceAccount] = self.informer(ServiceAccount)
        self.accounts.add_handler(
            on_delete=lambda account: self.enqueue(account.metadata.namespace)
        )

    def all_keys(self) -> list[str]:
        return [ns.metadata.name for ns in self.namespaces.items()]

    async def sync(self, key: str) -> None:
        namespace = self.namespaces.get(key)
        if namespace is None or namespace.metadata.deletion_timestamp is not None:
            return
        if namespace.status.phase == "Terminating":
            return
        if self.accounts.get(f"{key}/{DEFAULT_SERVICE_ACCOUNT}") is not None:
            return
        account = ServiceAccount(metadata=ObjectMeta(name=DEFAULT_SERVICE_ACCOUNT, namespace=key))
        try:
            await self.client.create(account)
        except ApiError as error:
            if error.code != 409:  # made already: the cache has yet to see it
                raise
