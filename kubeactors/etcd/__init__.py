"""etcd's v3 gRPC API over kubeactors' store, so etcdctl and etcd clients can use it."""

from ._cli import build_parser, main, serve
from ._client import EtcdClient
from ._convert import Identity
from ._errors import EtcdError
from ._kv import KeyValueService, Limits
from ._maintenance import ETCD_VERSION
from ._remote import EtcdStoreActor
from ._server import EtcdServer, parse_client_url

__all__ = [
    "ETCD_VERSION",
    "EtcdClient",
    "EtcdError",
    "EtcdServer",
    "EtcdStoreActor",
    "Identity",
    "KeyValueService",
    "Limits",
    "build_parser",
    "main",
    "parse_client_url",
    "serve",
]
