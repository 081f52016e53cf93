"""Authorisation: the Node authoriser, then RBAC (as `--authorization-mode=Node,RBAC`),
with members of `system:masters` allowed everything."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from msgspec.structs import replace

from ._auth import SYSTEM_MASTERS, UserInfo
from ._rbac import ClusterRole, PolicyRule, Role, Subject
from ._state import ClusterState

__all__ = [
    "AlwaysAllow",
    "Attributes",
    "Authorizer",
    "AuthorizerChain",
    "NodeAuthorizer",
    "RBACAuthorizer",
    "Rules",
    "default_authorizer",
    "rules_for",
]

NODE_LEASE_NAMESPACE = "kube-node-lease"


@dataclass(frozen=True)
class Attributes:
    """What a request does: who, which verb, on which resource and object; or, with
    `path` set, which verb on a path that names no resource (`get` `/healthz`)."""

    user: UserInfo
    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def is_resource(self) -> bool:
        return not self.path

    @property
    def describe(self) -> str:
        if not self.is_resource:
            return f'User "{self.user.name}" cannot {self.verb} path "{self.path}"'
        what = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        where = (
            f' in the namespace "{self.namespace}"' if self.namespace else " at the cluster scope"
        )
        group = f'in API group "{self.group}"'
        return f'User "{self.user.name}" cannot {self.verb} resource "{what}" {group}{where}'


class Authorizer(Protocol):
    def authorize(self, attributes: Attributes, state: ClusterState) -> bool | None:
        """True: allowed; False: denied; None: no opinion (the next authoriser decides)."""
        ...


class Rules(NamedTuple):
    """What a user may do in a namespace, as `SelfSubjectRulesReview` reports it;
    `incomplete` when some authoriser cannot enumerate its rules."""

    resource: list[PolicyRule]
    non_resource: list[PolicyRule]
    incomplete: bool = False


def rules_for(authorizer: Authorizer, user: UserInfo, namespace: str, state: ClusterState) -> Rules:
    """The rules `authorizer` grants `user` in `namespace` (upstream's `RulesFor`)."""
    if isinstance(authorizer, AuthorizerChain):
        resource: list[PolicyRule] = []
        non_resource: list[PolicyRule] = []
        incomplete = False
        for member in authorizer.authorizers:
            found = rules_for(member, user, namespace, state)
            resource += found.resource
            non_resource += found.non_resource
            incomplete = incomplete or found.incomplete
        return Rules(resource, non_resource, incomplete)
    if isinstance(authorizer, RBACAuthorizer):
        return authorizer.rules_for(user, namespace, state)
    if isinstance(authorizer, AlwaysAllow):
        return Rules(
            [PolicyRule(verbs=["*"], api_groups=["*"], resources=["*"])],
            [PolicyRule(verbs=["*"], non_resource_urls=["*"])],
        )
    if isinstance(authorizer, NodeAuthorizer):
        # Upstream's Node authoriser lists no rules either: it decides per object.
        return Rules([], [], incomplete=user.node_name is not None)
    return Rules([], [], incomplete=True)


class AlwaysAllow:
    """Allows everything (`--authorization-mode=AlwaysAllow`), for embedding and tests."""

    def authorize(self, attributes: Attributes, state: ClusterState) -> bool | None:
        return True


_NODE_READS = frozenset(
    {
        "pods",
        "nodes",
        "services",
        "endpoints",
        "endpointslices",
        "namespaces",
        "configmaps",
        "secrets",
        "persistentvolumeclaims",
    }
)
_READ_VERBS = frozenset({"get", "list", "watch"})
_WRITE_VERBS = frozenset({"create", "update", "patch", "delete"})


class NodeAuthorizer:
    """What a kubelet (`system:node:<name>`) may do, and nothing more.

    Reads of what its pods need; writes only to its own Node, its own Lease, events,
    and the status or deletion of pods (the NodeRestriction admission plugin then
    checks that a pod is bound to this node, which needs the stored object). For
    anything else it has no opinion, and RBAC decides.
    """

    def authorize(self, attributes: Attributes, state: ClusterState) -> bool | None:
        return True if self._allows(attributes) else None

    def _allows(self, attributes: Attributes) -> bool:
        node = attributes.user.node_name
        if node is None or not attributes.is_resource:
            return False
        verb, resource, sub = attributes.verb, attributes.resource, attributes.subresource
        if verb in _READ_VERBS and resource in _NODE_READS and not sub:
            return True
        if resource == "nodes":
            # A create names no object yet: NodeRestriction checks the new Node's name.
            own = attributes.name == node or (verb == "create" and not attributes.name)
            return own and verb in (_READ_VERBS | _WRITE_VERBS) and sub in ("", "status")
        if resource == "pods":
            return (sub == "status" and verb in ("update", "patch")) or (
                not sub and verb == "delete"
            )
        if resource == "leases" and attributes.group == "coordination.k8s.io":
            return (
                attributes.namespace == NODE_LEASE_NAMESPACE
                and attributes.name in (node, "")
                and (verb in _READ_VERBS or verb in _WRITE_VERBS)
            )
        return resource == "events" and verb in ("create", "update", "patch")


def _subject_matches(subject: Subject, user: UserInfo) -> bool:
    if subject.kind == "User":
        return subject.name == user.name
    if subject.kind == "Group":
        return subject.name in user.groups
    if subject.kind == "ServiceAccount":
        return user.name == f"system:serviceaccount:{subject.namespace}:{subject.name}"
    return False


def _path_matches(granted: str, path: str) -> bool:
    if granted == "*" or granted == path:
        return True
    return granted.endswith("*") and path.startswith(granted[:-1])


def _rule_allows(rule: PolicyRule, attributes: Attributes) -> bool:
    if "*" not in rule.verbs and attributes.verb not in rule.verbs:
        return False
    if not attributes.is_resource:
        return any(_path_matches(granted, attributes.path) for granted in rule.non_resource_urls)
    if "*" not in rule.api_groups and attributes.group not in rule.api_groups:
        return False
    resource, sub = attributes.resource, attributes.subresource
    wanted = f"{resource}/{sub}" if sub else resource
    if not any(
        granted in ("*", wanted) or (sub and granted == f"*/{sub}") for granted in rule.resources
    ):
        return False
    return not rule.resource_names or attributes.name in rule.resource_names


_DECISIONS = 4096
"""Decisions an RBACAuthorizer remembers before it starts afresh."""


class RBACAuthorizer:
    """Role-based access control from Roles, ClusterRoles and their bindings.

    A decision walks every ClusterRoleBinding (dozens: the default roles); the
    components ask the same questions over and over (the scheduler binding pods, each
    kubelet updating its status), so decisions are remembered until any RBAC object
    changes (`ClusterState.rbac_generation`): a grant by a rule that names no objects
    for every object of the request's kind, any other decision for its object alone.
    """

    def __init__(self) -> None:
        self._decisions: dict[Attributes, bool | None] = {}
        self._grants: set[tuple[object, ...]] = set()
        # The state and its RBAC generation the remembered decisions were made from.
        self._basis: tuple[ClusterState, int] | None = None

    def authorize(self, attributes: Attributes, state: ClusterState) -> bool | None:
        user = attributes.user
        if SYSTEM_MASTERS in user.groups:
            return True
        basis = self._basis
        decisions = self._decisions
        whatever_name = (
            user,
            attributes.verb,
            attributes.group,
            attributes.resource,
            attributes.subresource,
            attributes.namespace,
            attributes.path,
        )
        if basis is None or basis[0] is not state or basis[1] != state.rbac_generation:
            decisions.clear()
            self._grants.clear()
            self._basis = (state, state.rbac_generation)
        elif whatever_name in self._grants:
            return True
        elif attributes in decisions:
            return decisions[attributes]
        decision, by_name = self._decide(attributes, state)
        if len(decisions) + len(self._grants) >= _DECISIONS:
            decisions.clear()
            self._grants.clear()
        if decision and not by_name:
            self._grants.add(whatever_name)
        else:
            decisions[attributes] = decision
        return decision

    def _decide(self, attributes: Attributes, state: ClusterState) -> tuple[bool | None, bool]:
        """The decision, and whether it rests on the object's name (a rule with
        `resourceNames` grants it, and none without)."""
        # A ClusterRoleBinding grants everywhere; a RoleBinding only in its namespace,
        # and never a path or a cluster-scoped resource.
        user = attributes.user
        namespace = attributes.namespace if attributes.is_resource else ""
        by_name = False
        for rules in self._granted(user, namespace, state):
            for rule in rules:
                if _rule_allows(rule, attributes):
                    if not rule.resource_names:
                        return True, False
                    by_name = True
        return (True, True) if by_name else (None, False)

    def rules_for(self, user: UserInfo, namespace: str, state: ClusterState) -> Rules:
        resource: list[PolicyRule] = []
        non_resource: list[PolicyRule] = []
        for rules in self._granted(user, namespace, state):
            for rule in rules:
                if rule.resources:
                    resource.append(replace(rule, non_resource_urls=[]))
                if rule.non_resource_urls:
                    non_resource.append(
                        PolicyRule(verbs=rule.verbs, non_resource_urls=rule.non_resource_urls)
                    )
        return Rules(resource, non_resource)

    def _granted(
        self, user: UserInfo, namespace: str, state: ClusterState
    ) -> Iterator[list[PolicyRule]]:
        """The rules of each role bound to `user`, cluster-wide then in `namespace`."""
        for binding in state.cluster_role_bindings():
            if any(_subject_matches(s, user) for s in binding.subjects):
                role = state.cluster_role(binding.role_ref.name)
                if role is not None:
                    yield role.rules
        if namespace:
            for namespaced in state.role_bindings(namespace):
                if not any(_subject_matches(s, user) for s in namespaced.subjects):
                    continue
                ref = namespaced.role_ref
                granting: Role | ClusterRole | None = (
                    state.cluster_role(ref.name)
                    if ref.kind == "ClusterRole"
                    else state.role(namespace, ref.name)
                )
                if granting is not None:
                    yield granting.rules


class AuthorizerChain:
    """Asks each authoriser in turn; the first opinion wins, and silence denies."""

    def __init__(self, authorizers: list[Authorizer]) -> None:
        self.authorizers = list(authorizers)

    def authorize(self, attributes: Attributes, state: ClusterState) -> bool | None:
        for authorizer in self.authorizers:
            decision = authorizer.authorize(attributes, state)
            if decision is not None:
                return decision
        return False


def default_authorizer() -> AuthorizerChain:
    """Node, then RBAC: the modes kube-apiserver runs with in a real cluster."""
    return AuthorizerChain([NodeAuthorizer(), RBACAuthorizer()])
