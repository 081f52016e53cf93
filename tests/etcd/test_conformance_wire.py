"""The store conformance suite run a third way: through our etcd endpoint over gRPC.

The suite's test functions are imported unchanged; the `open_backend` fixture below
hands them a view of a fresh store behind `EtcdServer`, spoken to with `EtcdClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager as AsyncContextManager

import pytest

from ..store.backends import View
from ..store.test_kv import *  # noqa: F403
from ..store.test_lease import *  # noqa: F403
from ..store.test_txn import *  # noqa: F403
from ..store.test_watch import *  # noqa: F403
from .wire_backend import open_wire_view


@pytest.fixture
def open_backend() -> Callable[[], AsyncContextManager[View]]:
    return open_wire_view
