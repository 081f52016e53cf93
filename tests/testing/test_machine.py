"""The scheduler and the controllers under `ClusterMachine`: random programs of pods,
Deployments, node additions, drains, deaths and waits, every invariant checked."""

from __future__ import annotations

from hypothesis import settings

from kubeactors.testing import ClusterMachine


@settings(max_examples=10, stateful_step_count=12, deadline=None, database=None)
class DefaultCluster(ClusterMachine):
    """The default scheduler profile and every controller."""


TestDefaultCluster = DefaultCluster.TestCase
