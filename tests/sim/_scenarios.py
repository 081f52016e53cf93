"""Small scenarios the runner tests play: a few nodes, a quarter of a virtual hour."""

from __future__ import annotations

CRASH = """
name: small-crash
until: 15m
sample_every: 30s
check_every: 5m
cluster:
  nodes:
    - {name: a, count: 2, zone: za}
    - {name: b, count: 2, zone: zb, cpu: "2"}
  node_grace: 40s
  toleration: 1m
workloads:
  - {type: deployment, name: web, replicas: 8, cpu: 200m, memory: 128Mi}
  - {type: batch, name: job, pods: 3, run: 2m, at: 1m}
  - {type: churn, deployment: web, every: 3m, at: 30s, pods: 1}
faults:
  - {type: node-crash, at: 2m, nodes: [node-0], for: 8m}
"""

TROUBLES = """
name: small-troubles
until: 16m
cluster:
  nodes:
    - {name: pool, count: 3}
workloads:
  - {type: deployment, name: web, replicas: 6}
faults:
  - {type: partition, at: 1m, nodes: [node-2], for: 2m}
  - {type: crash-loop, at: 5m, deployment: web, for: 4m}
  - {type: slow-store, at: 11m, latency: 50s, for: 3m}
"""
