"""A container's environment and command line, resolved from the pod as the kubelet does.

Upstream's order: the `envFrom` sources in turn (with their prefix), then `env` in
order (each value may refer to the variables before it as `$(NAME)`), then the
Service variables of the pod's namespace for every name not set already. `$(NAME)`
in `command` and `args` expands against the result. A reference that cannot be
resolved (a ConfigMap, Secret or key that does not exist and is not optional) is
an `EnvError`, which the kubelet reports as "CreateContainerConfigError".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import TypeVar

import msgspec

from ..api import (
    ConfigMap,
    Container,
    KeySelector,
    Pod,
    QuantityError,
    ResourceFieldSelector,
    Resources,
    Secret,
    parse_quantity,
)

__all__ = ["EnvError", "EnvSources", "container_env", "expand", "references"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class EnvError(ValueError):
    """An environment variable cannot be resolved ("CreateContainerConfigError")."""


class EnvSources(msgspec.Struct, frozen=True, kw_only=True):
    """What a container's variables may draw on beside the pod itself.

    `config_maps` and `secrets` hold every object the container refers to, by name,
    None for one that does not exist. `services` are the pod's Service variables;
    `allocatable` stands in for limits a container does not set (resourceFieldRef).
    """

    pod_ip: str = ""
    host_ip: str = ""
    services: Mapping[str, str] = msgspec.field(default_factory=dict)
    config_maps: Mapping[str, ConfigMap | None] = msgspec.field(default_factory=dict)
    secrets: Mapping[str, Secret | None] = msgspec.field(default_factory=dict)
    allocatable: Resources = msgspec.field(default_factory=lambda: Resources(0, 0, 0))


def references(container: Container) -> tuple[set[str], set[str]]:
    """The names of the ConfigMaps and of the Secrets the container's variables read."""
    config_maps: set[str] = set()
    secrets: set[str] = set()
    for source in container.env_from:
        if source.config_map_ref is not None:
            config_maps.add(source.config_map_ref.name)
        if source.secret_ref is not None:
            secrets.add(source.secret_ref.name)
    for variable in container.env:
        value_from = variable.value_from
        if value_from is None:
            continue
        if value_from.config_map_key_ref is not None:
            config_maps.add(value_from.config_map_key_ref.name)
        if value_from.secret_key_ref is not None:
            secrets.add(value_from.secret_key_ref.name)
    return config_maps, secrets


def expand(text: str, *envs: Mapping[str, str]) -> str:
    """Upstream's `$(NAME)` expansion: the first of `envs` that has NAME gives its value.

    `$$` is a literal `$`, so `$$(NAME)` stays `$(NAME)`; a name no mapping has, an
    unclosed `$(` and a lone `$` are kept as written.
    """
    if "$" not in text:
        return text
    out: list[str] = []
    start = cursor = 0
    end = len(text)
    while cursor < end - 1:
        if text[cursor] != "$":
            cursor += 1
            continue
        out.append(text[start:cursor])
        following = text[cursor + 1]
        if following == "$":
            out.append("$")
            cursor += 2
        elif following == "(":
            close = text.find(")", cursor + 2)
            if close < 0:
                out.append("$(")
                cursor += 2
            else:
                name = text[cursor + 2 : close]
                out.append(next((env[name] for env in envs if name in env), f"$({name})"))
                cursor = close + 1
        else:
            out.append(text[cursor : cursor + 2])
            cursor += 2
        start = cursor
    out.append(text[start:])
    return "".join(out)


def _field(pod: Pod, path: str, sources: EnvSources) -> str:
    meta = pod.metadata
    match path:
        case "metadata.name":
            return meta.name
        case "metadata.namespace":
            return meta.namespace
        case "metadata.uid":
            return meta.uid
        case "spec.nodeName":
            return pod.spec.node_name
        case "spec.serviceAccountName":
            return pod.spec.service_account_name
        case "status.podIP" | "status.podIPs":
            return sources.pod_ip
        case "status.hostIP" | "status.hostIPs":
            return sources.host_ip
    for prefix, values in (
        ("metadata.labels", meta.labels),
        ("metadata.annotations", meta.annotations),
    ):
        if path.startswith(prefix + "['") and path.endswith("']"):
            return values.get(path[len(prefix) + 2 : -2], "")
    raise EnvError(f"unsupported fieldRef {path!r}")


def _resource(
    pod: Pod, container: Container, source: ResourceFieldSelector, sources: EnvSources
) -> str:
    """A request or limit in units of the divisor, rounded up as upstream."""
    target = container
    if source.container_name and source.container_name != container.name:
        found = [
            c
            for c in (*pod.spec.containers, *pod.spec.init_containers)
            if c.name == source.container_name
        ]
        if not found:
            raise EnvError(f"resourceFieldRef: container {source.container_name!r} not found")
        target = found[0]
    kind, _, resource = source.resource.partition(".")
    if kind not in ("limits", "requests") or resource not in ("cpu", "memory", "ephemeral-storage"):
        raise EnvError(f"unsupported container resource {source.resource!r}")
    try:
        divisor = parse_quantity(source.divisor or "1")
    except QuantityError:
        raise EnvError(f"resourceFieldRef divisor {source.divisor!r} is not a quantity") from None
    if divisor <= 0:
        raise EnvError(f"resourceFieldRef divisor {source.divisor!r} must be positive")
    values = target.resources.limits if kind == "limits" else target.resources.requests
    text = values.get(resource)
    amount: Fraction
    if text is not None:
        try:
            amount = parse_quantity(text)
        except QuantityError:
            raise EnvError(
                f"{source.resource} of {target.name!r}: {text!r} is not a quantity"
            ) from None
    elif kind == "limits" and resource == "cpu":
        amount = Fraction(sources.allocatable.cpu_millis, 1000)  # no limit: the node's
    elif kind == "limits" and resource == "memory":
        amount = Fraction(sources.allocatable.memory_bytes)
    else:
        amount = Fraction(0)
    if resource == "cpu":
        # As upstream: both sides in whole millicores first.
        millis = math.ceil(amount * 1000)
        return str(math.ceil(Fraction(millis, max(1, math.ceil(divisor * 1000)))))
    return str(math.ceil(Fraction(math.ceil(amount), max(1, math.ceil(divisor)))))


def _config_map(sources: EnvSources, name: str, optional: bool) -> ConfigMap | None:
    found = sources.config_maps.get(name)
    if found is None and not optional:
        raise EnvError(f'configmap "{name}" not found')
    return found


def _secret(sources: EnvSources, name: str, optional: bool) -> Secret | None:
    found = sources.secrets.get(name)
    if found is None and not optional:
        raise EnvError(f'secret "{name}" not found')
    return found


def _key(data: Mapping[str, T] | None, ref: KeySelector, where: str) -> T | None:
    """`ref.key` of an object's data (None: no object); a missing key must be optional."""
    if data is None:
        return None
    if ref.key not in data:
        if ref.optional:
            return None
        raise EnvError(f"couldn't find key {ref.key} in {where}/{ref.name}")
    return data[ref.key]


def _valid_name(name: str) -> bool:
    """Upstream's relaxed rule: printable ASCII, no '=' (and not empty)."""
    return bool(name) and "=" not in name and all(" " <= c <= "~" for c in name)


def _from_sources(pod: Pod, container: Container, sources: EnvSources) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.env_from:
        values: Mapping[str, str]
        if source.config_map_ref is not None:
            ref = source.config_map_ref
            config_map = _config_map(sources, ref.name, bool(ref.optional))
            values = config_map.data if config_map is not None else {}
            what = f"ConfigMap {pod.metadata.namespace}/{ref.name}"
        elif source.secret_ref is not None:
            secret_ref = source.secret_ref
            secret = _secret(sources, secret_ref.name, bool(secret_ref.optional))
            values = (
                {k: v.decode(errors="replace") for k, v in secret.data.items()}
                if secret is not None
                else {}
            )
            what = f"Secret {pod.metadata.namespace}/{secret_ref.name}"
        else:
            continue
        skipped = []
        for key, value in values.items():
            name = source.prefix + key
            if _valid_name(name):
                env[name] = value
            else:
                skipped.append(key)
        if skipped:
            logger.info(
                "keys %s from the envFrom %s were skipped: not valid variable names",
                sorted(skipped),
                what,
            )
    return env


def container_env(pod: Pod, container: Container, sources: EnvSources) -> dict[str, str]:
    """The container's variables, in upstream's order (see the module docstring)."""
    env = _from_sources(pod, container, sources) if container.env_from else {}
    namespace = pod.metadata.namespace
    for variable in container.env:
        name, source = variable.name, variable.value_from
        if source is None:
            env[name] = expand(variable.value, env, sources.services)
        elif source.field_ref is not None:
            env[name] = _field(pod, source.field_ref.field_path, sources)
        elif source.resource_field_ref is not None:
            env[name] = _resource(pod, container, source.resource_field_ref, sources)
        elif source.config_map_key_ref is not None:
            ref = source.config_map_key_ref
            config_map = _config_map(sources, ref.name, bool(ref.optional))
            value = _key(config_map.data if config_map else None, ref, f"ConfigMap {namespace}")
            if value is not None:
                env[name] = value
        elif source.secret_key_ref is not None:
            ref = source.secret_key_ref
            secret = _secret(sources, ref.name, bool(ref.optional))
            data = secret.data if secret is not None else None
            raw = _key(data, ref, f"Secret {namespace}")
            if raw is not None:
                env[name] = raw.decode(errors="replace")
        else:
            env[name] = ""
    for name, value in sources.services.items():
        env.setdefault(name, value)
    return env
