import msgspec

from kubeactors.api import (
    ApiError,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodStatus,
    StatusCause,
)

from .harness import make_pod


def test_pod_json_is_kubernetes_wire_format() -> None:
    pod = make_pod("web", namespace="default", resource_version="7")
    pod = msgspec.structs.replace(pod, status=PodStatus(phase="Running", pod_ip="10.0.0.2"))
    wire = msgspec.json.decode(msgspec.json.encode(pod))
    assert wire["apiVersion"] == "v1"
    assert wire["kind"] == "Pod"
    assert wire["metadata"] == {"name": "web", "namespace": "default", "resourceVersion": "7"}
    container = wire["spec"]["containers"][0]
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "64Mi"}}
    assert wire["status"] == {"phase": "Running", "podIP": "10.0.0.2"}


def test_node_json_names_pod_cidr_as_kubernetes_does() -> None:
    node = Node(
        metadata=ObjectMeta(name="n1"),
        spec=NodeSpec(pod_cidr="10.0.1.0/24", unschedulable=True),
        status=NodeStatus(capacity={"cpu": "4"}),
    )
    wire = msgspec.json.decode(msgspec.json.encode(node))
    assert wire["spec"] == {"unschedulable": True, "podCIDR": "10.0.1.0/24"}
    assert wire["kind"] == "Node"
    assert msgspec.json.decode(msgspec.json.encode(node), type=Node) == node


def test_camel_case_input_decodes() -> None:
    text = (
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"x-"},'
        b'"spec":{"nodeName":"n1","containers":[{"name":"c"}]}}'
    )
    pod = msgspec.json.decode(text, type=Pod)
    assert pod.metadata.generate_name == "x-"
    assert pod.spec.node_name == "n1"


def test_status_error_json_is_kubernetes_status() -> None:
    error = ApiError.invalid(
        "Pod",
        "web",
        [StatusCause(reason="FieldValueInvalid", field="spec.x", message='Invalid value: "1"')],
    )
    wire = msgspec.json.decode(msgspec.json.encode(error.status))
    assert wire == {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": 'Pod "web" is invalid: spec.x: Invalid value: "1"',
        "reason": "Invalid",
        "details": {
            "name": "web",
            "kind": "Pod",
            "causes": [
                {"reason": "FieldValueInvalid", "message": 'Invalid value: "1"', "field": "spec.x"}
            ],
        },
        "code": 422,
    }
