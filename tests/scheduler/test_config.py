import pytest

from kubeactors.scheduler import Cache, ConfigError, Handle, Profile, load_configuration
from kubeactors.scheduler.plugins import NodeResourcesFit


def _profile(text: str | None = None, name: str = "default-scheduler") -> Profile:
    return load_configuration(text).build(Handle(Cache()))[name]


def test_defaults_are_upstreams_plugins_and_weights() -> None:
    profile = _profile()
    assert profile.queue_sort.name == "PrioritySort"
    assert [p.name for p in profile.filter] == [
        "NodeUnschedulable",
        "NodeName",
        "TaintToleration",
        "NodeAffinity",
        "NodePorts",
        "NodeResourcesFit",
        "PodTopologySpread",
        "InterPodAffinity",
    ]
    assert {p.name: w for p, w in profile.score} == {
        "TaintToleration": 3,
        "NodeAffinity": 2,
        "NodeResourcesFit": 1,
        "PodTopologySpread": 2,
        "InterPodAffinity": 2,
        "NodeResourcesBalancedAllocation": 1,
        "ImageLocality": 1,
    }
    assert profile.percentage_of_nodes_to_score == 0


def test_enable_disable_weights_and_args_from_yaml() -> None:
    profile = _profile(
        """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
- schedulerName: packer
  plugins:
    multiPoint:
      disabled: [{name: ImageLocality}]
    score:
      disabled: [{name: "*"}]
      enabled: [{name: NodeResourcesFit, weight: 5}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
""",
        "packer",
    )
    assert [(p.name, w) for p, w in profile.score] == [("NodeResourcesFit", 5)]
    assert "ImageLocality" not in profile.plugins
    fit = profile.plugins["NodeResourcesFit"]
    assert isinstance(fit, NodeResourcesFit)
    assert fit.strategy == "MostAllocated"
    assert profile.percentage_of_nodes_to_score == 30


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("apiVersion: kubescheduler.config.k8s.io/v1beta3", "apiVersion"),
        ("percentageOfNodesToScore: 101", "percentageOfNodesToScore"),
        ("profiles: [{plugins: {score: {enabled: [{name: Nope}]}}}]", "Nope"),
        ("profiles: [{plugins: {scroe: {}}}]", "scroe"),
        ("profiles: [{plugins: {queueSort: {disabled: [{name: '*'}]}}}]", "queueSort"),
        (
            "profiles: [{pluginConfig: [{name: NodeResourcesFit,"
            " args: {scoringStrategy: {type: X}}}]}]",
            "scoringStrategy.type",
        ),
    ],
)
def test_bad_configurations_name_the_field(text: str, fault: str) -> None:
    with pytest.raises(ConfigError, match=fault.replace("*", r"\*")):
        _profile(text)
