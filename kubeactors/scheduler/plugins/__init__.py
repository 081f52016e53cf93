"""The default plugins, each a small class, and the registry profiles pick them from."""

from ..framework import Plugin
from .basic import DefaultBinder, NodeName, NodeUnschedulable, PrioritySort, SchedulingGates
from .inter_pod_affinity import InterPodAffinity
from .node_affinity import NodeAffinity
from .ports_images import ImageLocality, NodePorts
from .preemption import DefaultPreemption
from .resources import NodeResourcesBalancedAllocation, NodeResourcesFit
from .taints import TaintToleration
from .topology_spread import PodTopologySpread

__all__ = [
    "DEFAULT_PLUGINS",
    "REGISTRY",
    "DefaultBinder",
    "DefaultPreemption",
    "ImageLocality",
    "InterPodAffinity",
    "NodeAffinity",
    "NodeName",
    "NodePorts",
    "NodeResourcesBalancedAllocation",
    "NodeResourcesFit",
    "NodeUnschedulable",
    "PodTopologySpread",
    "PrioritySort",
    "SchedulingGates",
    "TaintToleration",
]

REGISTRY: dict[str, type[Plugin]] = {
    plugin.name: plugin
    for plugin in (
        SchedulingGates,
        PrioritySort,
        NodeUnschedulable,
        NodeName,
        TaintToleration,
        NodeAffinity,
        NodePorts,
        NodeResourcesFit,
        PodTopologySpread,
        InterPodAffinity,
        DefaultPreemption,
        NodeResourcesBalancedAllocation,
        ImageLocality,
        DefaultBinder,
    )
}

DEFAULT_PLUGINS: list[tuple[str, int]] = [
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
]
"""Upstream's multiPoint defaults, in order, with score weights."""
