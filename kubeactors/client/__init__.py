"""The client side: `Client` for requests, `Informer` for a watched local cache."""

from ._client import Client
from ._informer import BatchHandler, Delta, Indexer, Informer

__all__ = ["BatchHandler", "Client", "Delta", "Indexer", "Informer"]
