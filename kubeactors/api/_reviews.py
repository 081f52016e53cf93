"""The review kinds: questions put to the API server's authenticator and authoriser.

authorization.k8s.io/v1 (SelfSubjectAccessReview, SubjectAccessReview,
LocalSubjectAccessReview, SelfSubjectRulesReview) and authentication.k8s.io/v1
(SelfSubjectReview, TokenReview). They are created, never stored: the answer comes
back in `status` (what `kubectl auth can-i` and `kubectl auth whoami` ask).
"""

from __future__ import annotations

import msgspec

from ._base import WireStruct
from ._meta import ApiObject, ObjectMeta

__all__ = [
    "REVIEW_TYPES",
    "LocalSubjectAccessReview",
    "NonResourceAttributes",
    "NonResourceRule",
    "ResourceAttributes",
    "ResourceRule",
    "SelfSubjectAccessReview",
    "SelfSubjectAccessReviewSpec",
    "SelfSubjectReview",
    "SelfSubjectReviewStatus",
    "SelfSubjectRulesReview",
    "SelfSubjectRulesReviewSpec",
    "SubjectAccessReview",
    "SubjectAccessReviewSpec",
    "SubjectAccessReviewStatus",
    "SubjectRulesReviewStatus",
    "TokenReview",
    "TokenReviewSpec",
    "TokenReviewStatus",
    "UserInfoStatus",
]

_AUTHORIZATION = "authorization.k8s.io/v1"
_AUTHENTICATION = "authentication.k8s.io/v1"


class ResourceAttributes(WireStruct, frozen=True):
    """A request on a resource: `verb` `resource`/`subresource` `name` in `namespace`."""

    namespace: str = ""
    verb: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


class NonResourceAttributes(WireStruct, frozen=True):
    """A request on a path that names no resource (`/healthz`, `/metrics`)."""

    path: str = ""
    verb: str = ""


class SubjectAccessReviewSpec(WireStruct, frozen=True):
    """Who (user, groups) asks to do what (exactly one of the two attributes)."""

    resource_attributes: ResourceAttributes | None = None
    non_resource_attributes: NonResourceAttributes | None = None
    user: str = ""
    groups: list[str] = msgspec.field(default_factory=list)
    extra: dict[str, list[str]] = msgspec.field(default_factory=dict)
    uid: str = ""


class SelfSubjectAccessReviewSpec(WireStruct, frozen=True):
    """What the caller asks to do (exactly one of the two attributes)."""

    resource_attributes: ResourceAttributes | None = None
    non_resource_attributes: NonResourceAttributes | None = None


class SubjectAccessReviewStatus(WireStruct, frozen=True):
    """The answer: `allowed`; `denied` when an authoriser said no outright."""

    allowed: bool  # required on the wire, so written even when false
    denied: bool = False
    reason: str = ""
    evaluation_error: str = ""


class SubjectAccessReview(ApiObject, frozen=True):
    api_version: str = _AUTHORIZATION
    kind: str = "SubjectAccessReview"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: SubjectAccessReviewSpec = msgspec.field(default_factory=SubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus | None = None


class LocalSubjectAccessReview(ApiObject, frozen=True):
    """A SubjectAccessReview within one namespace (the path's)."""

    api_version: str = _AUTHORIZATION
    kind: str = "LocalSubjectAccessReview"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: SubjectAccessReviewSpec = msgspec.field(default_factory=SubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus | None = None


class SelfSubjectAccessReview(ApiObject, frozen=True):
    api_version: str = _AUTHORIZATION
    kind: str = "SelfSubjectAccessReview"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: SelfSubjectAccessReviewSpec = msgspec.field(default_factory=SelfSubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus | None = None


class ResourceRule(WireStruct, frozen=True):
    verbs: list[str]
    api_groups: list[str] = msgspec.field(default_factory=list)
    resources: list[str] = msgspec.field(default_factory=list)
    resource_names: list[str] = msgspec.field(default_factory=list)


class NonResourceRule(WireStruct, frozen=True):
    verbs: list[str]
    non_resource_urls: list[str] = msgspec.field(default_factory=list, name="nonResourceURLs")


class SubjectRulesReviewStatus(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Every rule the caller holds in a namespace; `incomplete` when some authoriser
    (the Node authoriser) cannot list its rules."""

    # Clients send null for both (they are not theirs to fill); answers carry lists.
    resource_rules: list[ResourceRule] | None = None
    non_resource_rules: list[NonResourceRule] | None = None
    incomplete: bool = False
    evaluation_error: str = ""


class SelfSubjectRulesReviewSpec(WireStruct, frozen=True):
    namespace: str = ""


class SelfSubjectRulesReview(ApiObject, frozen=True):
    api_version: str = _AUTHORIZATION
    kind: str = "SelfSubjectRulesReview"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: SelfSubjectRulesReviewSpec = msgspec.field(default_factory=SelfSubjectRulesReviewSpec)
    status: SubjectRulesReviewStatus | None = None


class UserInfoStatus(WireStruct, frozen=True):
    """authentication.k8s.io/v1 UserInfo: who a request was authenticated as."""

    username: str = ""
    uid: str = ""
    groups: list[str] = msgspec.field(default_factory=list)
    extra: dict[str, list[str]] = msgspec.field(default_factory=dict)


class SelfSubjectReviewStatus(WireStruct, frozen=True):
    user_info: UserInfoStatus = msgspec.field(default_factory=UserInfoStatus)


class SelfSubjectReview(ApiObject, frozen=True):
    """The caller's own identity, as the server authenticated it (`kubectl auth whoami`)."""

    api_version: str = _AUTHENTICATION
    kind: str = "SelfSubjectReview"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    status: SelfSubjectReviewStatus | None = None


class TokenReviewSpec(WireStruct, frozen=True):
    token: str = ""
    audiences: list[str] = msgspec.field(default_factory=list)


class TokenReviewStatus(WireStruct, frozen=True):
    authenticated: bool = False
    user: UserInfoStatus | None = None
    audiences: list[str] = msgspec.field(default_factory=list)
    error: str = ""


class TokenReview(ApiObject, frozen=True):
    """Whom a bearer token belongs to (asked by webhooks and aggregated servers)."""

    api_version: str = _AUTHENTICATION
    kind: str = "TokenReview"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: TokenReviewSpec = msgspec.field(default_factory=TokenReviewSpec)
    status: TokenReviewStatus | None = None


REVIEW_TYPES: tuple[type[ApiObject], ...] = (
    SelfSubjectAccessReview,
    SubjectAccessReview,
    LocalSubjectAccessReview,
    SelfSubjectRulesReview,
    SelfSubjectReview,
    TokenReview,
)
"""The kinds that are answered on create and never stored."""
