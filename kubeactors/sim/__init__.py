"""Scenarios on the virtual clock: a cluster, workloads and faults over time, replayable.

```python
from kubeactors.sim import load_scenario, run_scenario

scenario = load_scenario("scenarios/zone-outage.yaml")
report = await run_scenario(scenario, seed=1, until=parse_duration("2h"))
print(report.evictions, report.trace_hash)
```

`kubeactors sim scenario.yaml --seed N --until 24h` does the same from the command
line; docs/scenarios.md describes the YAML and the report.
"""

from .duration import Duration, format_duration, parse_duration
from .loading import ScenarioError, load_scenario, parse_scenario
from .report import FaultOutcome, Sample, SimReport, ViolationSeen
from .runner import run_scenario
from .scenario import (
    BatchWorkload,
    ChurnWorkload,
    ClusterSpec,
    CrashLoopFault,
    DeploymentWorkload,
    Fault,
    NodeCrashFault,
    NodeGroup,
    PartitionFault,
    ScaleStep,
    Scenario,
    SlowStoreFault,
    Workload,
    ZoneOutageFault,
)

__all__ = [
    "BatchWorkload",
    "ChurnWorkload",
    "ClusterSpec",
    "CrashLoopFault",
    "DeploymentWorkload",
    "Duration",
    "Fault",
    "FaultOutcome",
    "NodeCrashFault",
    "NodeGroup",
    "PartitionFault",
    "Sample",
    "ScaleStep",
    "Scenario",
    "ScenarioError",
    "SimReport",
    "SlowStoreFault",
    "ViolationSeen",
    "Workload",
    "ZoneOutageFault",
    "format_duration",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
    "run_scenario",
]
