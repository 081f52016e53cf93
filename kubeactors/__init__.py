"""kubeactors: a Kubernetes control plane and data plane as an asyncio actor system."""

from .cluster import Cluster

__all__ = ["Cluster"]
