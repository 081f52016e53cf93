"""Label selectors (`app=web,tier!=db,env in (a,b),!legacy`) and field selectors
(`spec.nodeName=n1,status.phase!=Running`), parsed once and matched server-side."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._meta import ApiObject, LabelSelector
from ._pod import NodeSelectorRequirement
from ._status import bad_request

__all__ = [
    "EVERYTHING",
    "FieldSelector",
    "LabelRequirement",
    "Selector",
    "node_requirement_holds",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_struct",
]

Operator = Literal["=", "!=", "in", "notin", "exists", "!"]

_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


@dataclass(frozen=True)
class LabelRequirement:
    """One term: `key op values`; `exists` and `!` (does not exist) take no values."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        match self.operator:
            case "=" | "in":
                return labels.get(self.key) in self.values
            case "!=" | "notin":
                return labels.get(self.key) not in self.values
            case "exists":
                return self.key in labels
            case "!":
                return self.key not in labels


@dataclass(frozen=True)
class Selector:
    """A conjunction of label requirements; the empty selector matches everything."""

    requirements: tuple[LabelRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        parts = []
        for r in self.requirements:
            values = sorted(r.values)
            if r.operator in ("=", "!="):
                parts.append(f"{r.key}{'==' if r.operator == '=' else '!='}{values[0]}")
            elif r.operator in ("in", "notin"):
                parts.append(f"{r.key} {r.operator} ({','.join(values)})")
            else:
                parts.append(r.key if r.operator == "exists" else f"!{r.key}")
        return ",".join(parts)


EVERYTHING = Selector()

_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)")


def _check(text: str, key: str, values: frozenset[str]) -> None:
    if not _KEY.match(key) or len(key) > 317:
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in {text!r}")
    for value in values:
        if len(value) > 63 or not _VALUE.match(value):
            raise bad_request(
                f"unable to parse requirement: invalid label value {value!r} in {text!r}"
            )


def parse_label_selector(text: str) -> Selector:
    """Parse a label selector string as kubectl `-l` and `?labelSelector=` take it."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s", "", text):
        raise bad_request(f"unable to parse label selector {text!r}")
    requirements: list[LabelRequirement] = []
    position = 0

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise bad_request(f"unable to parse label selector {text!r}: unexpected end")
        token: str = tokens[position]
        position += 1
        return token

    def peek() -> str:
        return tokens[position] if position < len(tokens) else ""

    while position < len(tokens):
        token = take()
        if token == "!":
            key = take()
            requirement = LabelRequirement(key, "!")
        elif token in ("=", "==", "!=", "(", ")", ","):
            raise bad_request(f"unable to parse label selector {text!r}: unexpected {token!r}")
        else:
            key, follow = token, peek()
            if follow in ("=", "==", "!="):
                take()
                value = peek() if peek() not in (",", "") else ""
                if value:
                    take()
                operator: Operator = "!=" if follow == "!=" else "="
                requirement = LabelRequirement(key, operator, frozenset({value}))
            elif follow in ("in", "notin"):
                take()
                if take() != "(":
                    raise bad_request(f"unable to parse label selector {text!r}: expected '('")
                values: set[str] = set()
                while True:
                    item = take()
                    if item == ")":
                        break
                    if item == ",":
                        continue
                    values.add(item)
                if not values:
                    raise bad_request(
                        f"unable to parse label selector {text!r}: {follow} needs values"
                    )
                requirement = LabelRequirement(
                    key, "in" if follow == "in" else "notin", frozenset(values)
                )
            else:
                requirement = LabelRequirement(key, "exists")
        _check(text, requirement.key, requirement.values)
        requirements.append(requirement)
        following = take() if position < len(tokens) else ","
        if following != ",":
            raise bad_request(f"unable to parse label selector {text!r}: expected ','")
    return Selector(tuple(requirements))


def selector_from_struct(selector: LabelSelector | None) -> Selector:
    """The `Selector` of a metav1.LabelSelector (matchLabels and matchExpressions)."""
    if selector is None:
        return EVERYTHING
    requirements = [
        LabelRequirement(key, "=", frozenset({value}))
        for key, value in sorted(selector.match_labels.items())
    ]
    operators: dict[str, Operator] = {
        "In": "in",
        "NotIn": "notin",
        "Exists": "exists",
        "DoesNotExist": "!",
    }
    for expression in selector.match_expressions:
        requirements.append(
            LabelRequirement(
                expression.key, operators[expression.operator], frozenset(expression.values)
            )
        )
    return Selector(tuple(requirements))


# -- field selectors --------------------------------------------------------------

FieldGetter = Callable[[Any], str]

_COMMON: dict[str, FieldGetter] = {
    "metadata.name": lambda o: o.metadata.name,
    "metadata.namespace": lambda o: o.metadata.namespace,
}

_BY_KIND: dict[str, dict[str, FieldGetter]] = {
    "Pod": {
        "spec.nodeName": lambda o: o.spec.node_name,
        "spec.schedulerName": lambda o: o.spec.scheduler_name,
        "spec.restartPolicy": lambda o: o.spec.restart_policy,
        "spec.serviceAccountName": lambda o: o.spec.service_account_name,
        "status.phase": lambda o: o.status.phase,
        "status.podIP": lambda o: o.status.pod_ip,
        "status.nominatedNodeName": lambda o: o.status.nominated_node_name,
    },
    "Node": {"spec.unschedulable": lambda o: "true" if o.spec.unschedulable else "false"},
    "Namespace": {"status.phase": lambda o: o.status.phase},
    "Secret": {"type": lambda o: o.type},
    "Event": {
        "involvedObject.kind": lambda o: o.involved_object.kind,
        "involvedObject.namespace": lambda o: o.involved_object.namespace,
        "involvedObject.name": lambda o: o.involved_object.name,
        "involvedObject.uid": lambda o: o.involved_object.uid,
        "involvedObject.apiVersion": lambda o: o.involved_object.api_version,
        "involvedObject.resourceVersion": lambda o: o.involved_object.resource_version,
        "involvedObject.fieldPath": lambda o: o.involved_object.field_path,
        "reason": lambda o: o.reason,
        "source": lambda o: o.source.component,
        "type": lambda o: o.type,
    },
    "ReplicaSet": {"status.replicas": lambda o: str(o.status.replicas)},
    "ReplicationController": {"status.replicas": lambda o: str(o.status.replicas)},
}


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of `field=value` / `field!=value` terms over the fields a kind
    supports; the empty selector matches everything."""

    terms: tuple[tuple[FieldGetter, str, bool], ...] = ()
    text: str = ""

    def matches(self, obj: ApiObject) -> bool:
        return all((getter(obj) == value) == equal for getter, value, equal in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms

    def required(self, field: str) -> str | None:
        """The value an equality term demands of `field`, if there is one."""
        for part in self.text.split(","):
            name, op, value = _split_field_term(part)
            if name == field and op == "=":
                return value
        return None


def _split_field_term(part: str) -> tuple[str, str, str]:
    for op in ("!=", "==", "="):
        name, found, value = part.partition(op)
        if found:
            return name.strip(), "!=" if op == "!=" else "=", value.strip()
    return part.strip(), "", ""


def parse_field_selector(text: str, kind: str) -> FieldSelector:
    """Parse `?fieldSelector=` for objects of `kind`; an unsupported field is a 400."""
    if not text.strip():
        return FieldSelector()
    getters = {**_COMMON, **_BY_KIND.get(kind, {})}
    terms: list[tuple[FieldGetter, str, bool]] = []
    for part in text.split(","):
        name, op, value = _split_field_term(part)
        if not op:
            raise bad_request(f"invalid selector: {text!r}; can't understand {part!r}")
        getter = getters.get(name)
        if getter is None:
            raise bad_request(f'field label not supported: {name} for kind "{kind}"')
        terms.append((getter, value, op == "="))
    return FieldSelector(tuple(terms), text)


def node_requirement_holds(requirement: NodeSelectorRequirement, values: Mapping[str, str]) -> bool:
    """Whether a node selector requirement holds of a node's labels (or, for a
    `matchFields` requirement, of `{"metadata.name": name}`): In, NotIn, Exists,
    DoesNotExist, and Gt/Lt comparing integers (false when either is not one)."""
    present = requirement.key in values
    value = values.get(requirement.key, "")
    match requirement.operator:
        case "In":
            return present and value in requirement.values
        case "NotIn":
            return not present or value not in requirement.values
        case "Exists":
            return present
        case "DoesNotExist":
            return not present
        case "Gt" | "Lt":
            try:
                have, bound = int(value), int(requirement.values[0])
            except (ValueError, IndexError):
                return False
            return have > bound if requirement.operator == "Gt" else have < bound
