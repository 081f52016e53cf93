import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.sim import (
    DeploymentWorkload,
    NodeCrashFault,
    ScenarioError,
    ZoneOutageFault,
    format_duration,
    load_scenario,
    parse_scenario,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

BASE = {
    "cluster": {
        "nodes": [
            {"name": "a", "count": 2, "zone": "za"},
            {"name": "b", "count": 2, "zone": "zb"},
        ]
    },
    "workloads": [{"type": "deployment", "name": "web", "replicas": 4}],
    "faults": [
        {"type": "node-crash", "at": "1m", "count": 1, "for": "5m"},
        {"type": "slow-store", "at": "2m", "latency": "100ms"},
        {"type": "zone-outage", "at": "3m", "zone": "za", "for": "1m"},
    ],
}


def _with(path: str, value: object) -> str:
    """BASE with the value at a dotted path (list indexes as numbers) replaced."""
    data = yaml.safe_load(yaml.safe_dump(BASE))
    *parents, last = path.split(".")
    target = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return yaml.safe_dump(data)


def test_the_example_scenarios_load() -> None:
    loaded = {path.stem: load_scenario(path) for path in sorted(SCENARIOS.glob("*.yaml"))}
    assert set(loaded) >= {"zone-outage", "node-churn", "bad-day"}
    for name, scenario in loaded.items():
        assert scenario.name == name
        assert scenario.faults, f"{name} has no faults"
    outage = loaded["zone-outage"]
    assert isinstance(outage.faults[0], ZoneOutageFault)
    assert outage.faults[0].zone == "zone-a"
    assert outage.faults[0].for_ == 1800.0
    churn = loaded["node-churn"]
    assert isinstance(churn.faults[0], NodeCrashFault)
    assert churn.faults[0].every == 600.0
    assert churn.node_count == 12


def test_a_scenario_with_defaults() -> None:
    scenario = parse_scenario(yaml.safe_dump(BASE))
    assert scenario.until == 3600.0
    assert scenario.cluster.lease_every == 10.0
    workload = scenario.workloads[0]
    assert isinstance(workload, DeploymentWorkload)
    assert (workload.replicas, workload.cpu, workload.at) == (4, "100m", 0.0)
    assert scenario.node_names() == {"a": ["node-0", "node-1"], "b": ["node-2", "node-3"]}


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        ("faults.0.at", "5x", 'scenario.faults[0].at: expected a duration like "5m"'),
        ("faults.1.latency", "0s", "scenario.faults[1].latency: must be longer than 0s"),
        ("faults.2.zone", "zq", "scenario.faults[2].zone: no node group in zone 'zq'"),
        ("faults.0.type", "meteor", "scenario.faults[0].type: invalid value 'meteor'"),
        (
            "faults.0",
            {"type": "partition", "at": "1m", "nodes": ["node-7"]},
            "scenario.faults[0].nodes: no node named 'node-7'",
        ),
        (
            "faults.0",
            {"type": "partition", "at": "1m", "nodes": ["node-1"], "count": 1},
            "scenario.faults[0]: give either nodes, or group and/or count",
        ),
        ("workloads.0.replicas", -1, "scenario.workloads[0].replicas: expected `int` >= 0"),
        ("workloads.0.cpu", "lots", "scenario.workloads[0].cpu: quantities must match"),
        ("cluster.nodes.0.count", 0, "scenario.cluster.nodes[0].count: expected `int` >= 1"),
        ("cluster.nodes.1.name", "a", "scenario.cluster: node group 'a' is defined twice"),
        ("cluster.lease_every", "often", "scenario.cluster.lease_every: expected a duration"),
        ("cluster.nodes", [], "scenario.cluster.nodes: expected `array` of length >= 1"),
        ("until", 60, 'scenario.until: expected a duration like "5m" (a number with a unit'),
        ("speed", "fast", "scenario: object contains unknown field `speed`"),
    ],
)
def test_a_bad_field_is_named_in_the_error(path: str, value: object, error: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_with(path, value))
    assert str(caught.value).startswith(error)


def test_a_churn_or_crash_loop_names_a_deployment_that_exists() -> None:
    text = _with("faults.1", {"type": "crash-loop", "at": "1m", "deployment": "api"})
    with pytest.raises(ScenarioError, match=r"scenario\.faults\[1\]\.deployment: no deployment"):
        parse_scenario(text)
    crash_loop = {"type": "crash-loop", "at": "1m", "deployment": "web"}
    late = yaml.safe_load(_with("faults.1", crash_loop))
    late["workloads"][0]["at"] = "2m"
    with pytest.raises(ScenarioError, match=r"scenario\.faults\[1\]\.at: comes before deployment"):
        parse_scenario(yaml.safe_dump(late))


def test_not_yaml_or_not_a_mapping_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="line 1, column"):
        parse_scenario("cluster: [")
    with pytest.raises(ScenarioError, match="expected a mapping with a `cluster`"):
        parse_scenario("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="scenario: object missing required field `cluster`"):
        parse_scenario("name: x\n")
    path = tmp_path / "broken.yaml"
    path.write_text("cluster: [")
    with pytest.raises(ScenarioError, match=f"^{re.escape(str(path))}: not valid YAML"):
        load_scenario(path)
    with pytest.raises(FileNotFoundError, match=r"missing\.yaml"):
        load_scenario(tmp_path / "missing.yaml")


# Each example reads a whole scenario: fewer examples than the suite's default.
@settings(max_examples=25)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=2))
def test_any_written_duration_loads_as_its_seconds(millis: int, index: int) -> None:
    seconds = millis / 1000
    scenario = parse_scenario(_with(f"faults.{index}.at", format_duration(seconds)))
    assert scenario.faults[index].at == seconds


@settings(max_examples=25)
@given(
    st.text(alphabet="0123456789.smhdx -", min_size=1, max_size=8).filter(
        lambda text: not _is_duration(text)
    ),
    st.integers(min_value=0, max_value=2),
)
def test_any_bad_time_is_reported_at_its_field(text: str, index: int) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_with(f"faults.{index}.at", text))
    assert str(caught.value).startswith(f"scenario.faults[{index}].at: expected a duration")


def _is_duration(text: str) -> bool:
    try:
        parse_scenario(_with("faults.0.at", text))
    except ScenarioError:
        return False
    return True
