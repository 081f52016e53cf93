"""The client side: `Client` for requests, `Informer` for a watched local cache,
`WorkQueue` for controllers' work, and the `ApiClient` protocol every client implements."""

from ._callback import Callback, callback_reply
from ._client import Client
from ._informer import Informer, InformerFactory
from ._protocol import ApiClient, EventStream
from ._types import BatchHandler, Delta, Indexer
from ._workqueue import BucketRateLimiter, ItemBackoff, QueueShutDown, RateLimiter, WorkQueue

__all__ = [
    "ApiClient",
    "BatchHandler",
    "BucketRateLimiter",
    "Callback",
    "Client",
    "Delta",
    "EventStream",
    "Indexer",
    "Informer",
    "InformerFactory",
    "ItemBackoff",
    "QueueShutDown",
    "RateLimiter",
    "WorkQueue",
    "callback_reply",
]
