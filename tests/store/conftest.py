"""Fixtures of the store suite: a real etcd for the session, and both backends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager as AsyncContextManager

import pytest

from .backends import BACKENDS, LOCAL_BACKENDS, View, open_view
from .etcd_gateway import EtcdServer, etcd_available

ViewFactory = Callable[[], AsyncContextManager[View]]


@pytest.fixture(scope="session")
def etcd_url() -> Iterator[str]:
    if not etcd_available():
        pytest.skip(
            "etcd is not installed (apt-get install -y etcd-server etcd-client): "
            "the etcd half of the conformance suite cannot run here"
        )
    with EtcdServer() as server:
        yield server.url


@pytest.fixture(params=BACKENDS)
def open_backend(request: pytest.FixtureRequest) -> ViewFactory:
    """`async with open_backend() as view:` a fresh view on the parametrized backend."""
    kind: str = request.param
    url: str | None = request.getfixturevalue("etcd_url") if kind not in LOCAL_BACKENDS else None

    def factory() -> AsyncContextManager[View]:
        return open_view(kind, url)

    return factory
