"""Answers to the review kinds: may this subject do that, what may I do, who am I."""

from __future__ import annotations

from msgspec.structs import replace

from ._auth import TokenAuthenticator, UserInfo
from ._authz import Attributes, Authorizer, AuthorizerChain, rules_for
from ._kinds import KINDS, UnknownKindError
from ._meta import ApiObject
from ._reviews import (
    LocalSubjectAccessReview,
    NonResourceRule,
    ResourceAttributes,
    ResourceRule,
    SelfSubjectAccessReview,
    SelfSubjectReview,
    SelfSubjectReviewStatus,
    SelfSubjectRulesReview,
    SubjectAccessReview,
    SubjectAccessReviewStatus,
    SubjectRulesReviewStatus,
    TokenReview,
    TokenReviewStatus,
    UserInfoStatus,
)
from ._state import ClusterState
from ._status import ApiError, StatusCause

__all__ = ["answer_review"]

_AccessReview = SelfSubjectAccessReview | SubjectAccessReview | LocalSubjectAccessReview


def _invalid(kind: str, field: str, message: str) -> ApiError:
    cause = StatusCause(reason="FieldValueRequired", field=field, message=message)
    return ApiError.invalid(kind, "", [cause])


def _user_status(user: UserInfo) -> UserInfoStatus:
    return UserInfoStatus(username=user.name, uid=user.uid, groups=list(user.groups))


def _resource_attributes(user: UserInfo, asked: ResourceAttributes) -> Attributes:
    namespace = asked.namespace
    try:
        if not KINDS.of_resource(asked.group, asked.resource).namespaced:
            namespace = ""  # a cluster-scoped kind: no RoleBinding can grant it
    except UnknownKindError:
        pass  # a resource the server does not serve (yet): judged as asked
    return Attributes(
        user,
        asked.verb,
        asked.group,
        asked.resource,
        asked.subresource,
        namespace,
        asked.name,
    )


def _access(
    review: _AccessReview, user: UserInfo, authorizer: Authorizer, state: ClusterState
) -> ApiObject:
    spec = review.spec
    kind = review.kind
    resource, path = spec.resource_attributes, spec.non_resource_attributes
    if (resource is None) == (path is None):
        raise _invalid(
            kind,
            "spec.resourceAttributes",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )
    if isinstance(review, LocalSubjectAccessReview):
        namespace = review.metadata.namespace
        if resource is None or resource.namespace != namespace:
            raise _invalid(
                kind,
                "spec.resourceAttributes.namespace",
                f'must match metadata.namespace "{namespace}"',
            )
    if resource is not None:
        attributes = _resource_attributes(user, resource)
    else:
        assert path is not None
        attributes = Attributes(user, path.verb, path=path.path)
    decision = _decide(authorizer, attributes, state)
    status = SubjectAccessReviewStatus(allowed=decision is True, denied=decision is False)
    return replace(review, status=status)


def _decide(authorizer: Authorizer, attributes: Attributes, state: ClusterState) -> bool | None:
    """The first opinion of a chain, None if no authoriser has one (which denies a
    request, but is not the explicit denial a review reports as `denied`)."""
    if isinstance(authorizer, AuthorizerChain):
        for member in authorizer.authorizers:
            decision = _decide(member, attributes, state)
            if decision is not None:
                return decision
        return None
    return authorizer.authorize(attributes, state)


def _subject(review: SubjectAccessReview | LocalSubjectAccessReview) -> UserInfo:
    spec = review.spec
    if not spec.user and not spec.groups:
        raise _invalid(review.kind, "spec.user", "at least one of user or group must be specified")
    return UserInfo(spec.user, spec.uid, tuple(spec.groups))


def _rules(
    review: SelfSubjectRulesReview, user: UserInfo, authorizer: Authorizer, state: ClusterState
) -> SelfSubjectRulesReview:
    found = rules_for(authorizer, user, review.spec.namespace, state)
    status = SubjectRulesReviewStatus(
        resource_rules=[
            ResourceRule(
                verbs=r.verbs,
                api_groups=r.api_groups,
                resources=r.resources,
                resource_names=r.resource_names,
            )
            for r in found.resource
        ],
        non_resource_rules=[
            NonResourceRule(verbs=r.verbs, non_resource_urls=r.non_resource_urls)
            for r in found.non_resource
        ],
        incomplete=found.incomplete,
    )
    return replace(review, status=status)


def _token(review: TokenReview, authenticator: TokenAuthenticator | None) -> TokenReview:
    found = authenticator.authenticate(review.spec.token) if authenticator else None
    if found is None:
        return replace(review, status=TokenReviewStatus(authenticated=False))
    status = TokenReviewStatus(
        authenticated=True, user=_user_status(found), audiences=review.spec.audiences
    )
    return replace(review, status=status)


def answer_review(
    review: ApiObject,
    user: UserInfo,
    *,
    authorizer: Authorizer,
    authenticator: TokenAuthenticator | None,
    state: ClusterState,
) -> ApiObject:
    """`review` with its `status` filled in, as asked by `user` (already allowed to ask)."""
    match review:
        case SelfSubjectAccessReview():
            return _access(review, user, authorizer, state)
        case SubjectAccessReview() | LocalSubjectAccessReview():
            return _access(review, _subject(review), authorizer, state)
        case SelfSubjectRulesReview():
            return _rules(review, user, authorizer, state)
        case SelfSubjectReview():
            status = SelfSubjectReviewStatus(user_info=_user_status(user))
            return replace(review, status=status)
        case TokenReview():
            return _token(review, authenticator)
    raise TypeError(f"not a review: {type(review).__name__}")
