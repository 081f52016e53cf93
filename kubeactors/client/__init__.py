"""The client side: `Client` for requests, `Informer` for a watched local cache."""

from ._callback import Callback, callback_reply
from ._client import Client
from ._informer import BatchHandler, Delta, Indexer, Informer

__all__ = [
    "BatchHandler",
    "Callback",
    "Client",
    "Delta",
    "Indexer",
    "Informer",
    "callback_reply",
]
