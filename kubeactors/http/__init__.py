"""Kubernetes REST over HTTP(S): the API that kubectl and client libraries use unchanged."""

from ._app import SERVER_VERSION, HttpApi
from ._auth import ensure_token_file
from ._client import HttpClient, HttpWatch
from ._kinds import KindIndex, default_kinds
from ._kubeconfig import write_kubeconfig
from ._logs import LogLines, LogReader, LogRequest
from ._metrics import Collector, Metrics, Sample
from ._server import HttpServer
from ._table import human_duration
from ._tls import Certificates, ensure_certificates

__all__ = [
    "SERVER_VERSION",
    "Certificates",
    "Collector",
    "HttpApi",
    "HttpClient",
    "HttpServer",
    "HttpWatch",
    "KindIndex",
    "LogLines",
    "LogReader",
    "LogRequest",
    "Metrics",
    "Sample",
    "default_kinds",
    "ensure_certificates",
    "ensure_token_file",
    "human_duration",
    "write_kubeconfig",
]
