"""Pod validation names each field at fault, container by container."""

from __future__ import annotations

from kubeactors.api import Container, ObjectMeta, Pod, PodSpec, ResourceRequirements
from kubeactors.api._validation import validate_pod


def _pod(*containers: Container) -> Pod:
    return Pod(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=PodSpec(containers=list(containers)),
    )


def test_a_valid_pod_has_no_causes() -> None:
    resources = ResourceRequirements(requests={"cpu": "100m"}, limits={"memory": "1Gi"})
    assert validate_pod(_pod(Container(name="app", resources=resources))) == []


def test_each_bad_container_field_is_named_with_its_index() -> None:
    causes = validate_pod(
        _pod(
            Container(name="app"),
            Container(name="", resources=ResourceRequirements(requests={"cpu": "1x"})),
            Container(name="app", resources=ResourceRequirements(limits={"memory": "-1"})),
        )
    )
    assert [(c.reason, c.field) for c in causes] == [
        ("FieldValueRequired", "spec.containers[1].name"),
        ("FieldValueInvalid", "spec.containers[1].resources.requests.cpu"),
        ("FieldValueDuplicate", "spec.containers[2].name"),
        ("FieldValueInvalid", "spec.containers[2].resources.limits.memory"),
    ]
    assert causes[2].message == 'Duplicate value: "app"'
    assert causes[3].message.startswith('Invalid value: "-1": must be greater than or equal to 0')
