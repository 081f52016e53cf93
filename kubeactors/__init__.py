"""kubeactors: a Kubernetes control plane and data plane as an asyncio actor system."""

from ._election import LeaderElection
from .cluster import Cluster

__all__ = ["Cluster", "LeaderElection"]
