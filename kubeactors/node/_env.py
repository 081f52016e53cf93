"""A container's environment and command line, resolved from the pod as the kubelet does."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..api import Container, Pod

__all__ = ["EnvError", "container_env", "expand"]

_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_LABEL_PATH = re.compile(r"metadata\.(labels|annotations)\['([^']*)'\]")


class EnvError(ValueError):
    """An environment variable cannot be resolved ("CreateContainerConfigError")."""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Replace `$(NAME)` by its value; unknown names stay as written and `$$` is `$`."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(substitute, text)


def _field(pod: Pod, path: str, pod_ip: str) -> str:
    meta = pod.metadata
    simple = {
        "metadata.name": meta.name,
        "metadata.namespace": meta.namespace,
        "metadata.uid": meta.uid,
        "spec.nodeName": pod.spec.node_name,
        "spec.serviceAccountName": pod.spec.service_account_name,
        "status.podIP": pod_ip,
        "status.hostIP": pod.status.host_ip,
    }
    if path in simple:
        return simple[path]
    match = _LABEL_PATH.fullmatch(path)
    if match is not None:
        source = meta.labels if match.group(1) == "labels" else meta.annotations
        return source.get(match.group(2), "")
    raise EnvError(f"fieldRef {path!r} is not supported")


def container_env(
    pod: Pod, container: Container, pod_ip: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base` (service variables), then the container's `env` in order, expanded as upstream."""
    env: dict[str, str] = dict(base or {})
    for variable in container.env:
        source = variable.value_from
        if source is None:
            env[variable.name] = expand(variable.value, env)
        elif source.field_ref is not None:
            env[variable.name] = _field(pod, source.field_ref.field_path, pod_ip)
        else:
            raise EnvError(
                f"env {variable.name!r} of container {container.name!r}: "
                "configMapKeyRef and secretKeyRef are not supported yet"
            )
    return env
