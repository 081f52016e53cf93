"""`UpdateMany`: a batch of updates, each applied as if it came alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import anyio
import msgspec
import pytest

from kubeactors.actors import Reply
from kubeactors.api import (
    ApiError,
    Lease,
    LeaseSpec,
    ObjectMeta,
    SelfSubjectAccessReview,
    TokenAuthenticator,
    default_authorizer,
    node_user,
)
from kubeactors.api._kinds import kind_of
from kubeactors.api._server import ApiServer
from kubeactors.api._update_many import BatchAnswer, BatchAnswers
from kubeactors.api._written import BatchWrittenReply
from kubeactors.client import Client
from kubeactors.client._callback import callback_reply
from kubeactors.store import ConflictError, WriteResult

from .harness import running_api

replace = msgspec.structs.replace
NAMESPACE = "kube-node-lease"


def _lease(name: str) -> Lease:
    return Lease(
        metadata=ObjectMeta(name=name, namespace=NAMESPACE),
        spec=LeaseSpec(holder_identity=name, renew_time="2026-01-01T00:00:00.000000Z"),
    )


def _renewed(lease: Lease, when: str) -> Lease:
    return replace(lease, spec=replace(lease.spec, renew_time=when))


async def _send(client: Client, updates: list[Any]) -> list[Any]:
    answered = anyio.Event()
    got: list[Any] = []

    def done(answers: list[Any] | None, error: BaseException | None) -> None:
        assert error is None
        assert answers is not None
        got.extend(answers)
        answered.set()

    await client.send_batch(updates, done)
    with anyio.fail_after(10):
        await answered.wait()
    return got


async def test_each_update_of_a_batch_is_its_own_write_and_fails_alone(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        client = h.client
        leases = [await client.create(_lease(f"node-{i}")) for i in range(3)]
        stale = _renewed(leases[1], "2026-01-01T00:00:01.000000Z")
        await client.update(stale)  # leases[1]'s version is now out of date
        watch = await client.watch(Lease, NAMESPACE, leases[-1].metadata.resource_version)
        when = "2026-01-01T00:00:10.000000Z"
        answers = await _send(client, [client.batch_item(_renewed(x, when)) for x in leases])
        assert isinstance(answers[1], ApiError)
        assert answers[1].reason == "Conflict"
        first, third = answers[0], answers[2]
        assert isinstance(first, Lease)
        assert isinstance(third, Lease)
        assert first.spec.renew_time == third.spec.renew_time == when
        # Each its own revision, and its own watch event, in the batch's order.
        assert int(first.metadata.resource_version) < int(third.metadata.resource_version)
        seen: list[str] = []
        async for batch in watch:
            seen.extend(e.object.metadata.name for e in batch if e.type == "MODIFIED")
            if len(seen) >= 3:
                break
        assert seen == ["node-1", "node-0", "node-2"]
        assert await _send(client, []) == []


async def test_each_update_of_a_batch_is_authorised_as_its_own_user(tmp_path: Path) -> None:
    async with running_api(
        tmp_path,
        authenticator=TokenAuthenticator.from_csv(""),
        authorizer=default_authorizer(),
    ) as h:
        own = h.client.as_user(node_user("n1"))
        other = h.client.as_user(node_user("n2"))
        mine = await own.create(_lease("n1"))
        theirs = await other.create(_lease("n2"))
        when = "2026-01-01T00:00:10.000000Z"
        # n1's identity on n2's lease: refused, alone; n1's own goes through.
        answers = await _send(
            own,
            [own.batch_item(_renewed(mine, when)), own.batch_item(_renewed(theirs, when))],
        )
        assert isinstance(answers[0], Lease)
        assert isinstance(answers[1], ApiError)
        assert answers[1].code == 403
        with pytest.raises(ApiError):
            await own.update(_renewed(theirs, when))


async def test_a_batch_answers_each_identity_and_each_refusal_at_its_place(
    tmp_path: Path,
) -> None:
    tokens = "tok-n1,system:node:n1,n1,system:nodes\ntok-n2,system:node:n2,n2,system:nodes\n"
    async with running_api(
        tmp_path,
        authenticator=TokenAuthenticator.from_csv(tokens),
        authorizer=default_authorizer(),
    ) as h:
        n1, n2 = h.client.with_token("tok-n1"), h.client.with_token("tok-n2")
        first, second = await n1.create(_lease("n1")), await n2.create(_lease("n2"))
        stranger = h.client.with_token("tok-unknown")
        when = "2026-01-01T00:00:10.000000Z"
        updates = [
            n1.batch_item(_renewed(first, when)),
            stranger.batch_item(_renewed(second, when)),  # no such token: 401
            n1.batch_item(SelfSubjectAccessReview()),  # a review is create-only: 405
            n1.batch_item(_renewed(second, when)),  # n1's token on n2's lease: 403
            n2.batch_item(_renewed(second, when)),
        ]
        answers = await _send(n1, updates)
        codes = [a.code if isinstance(a, ApiError) else None for a in answers]
        assert codes == [None, 401, 405, 403, None]
        assert isinstance(answers[0], Lease)
        assert isinstance(answers[4], Lease)
        assert answers[0].spec.renew_time == answers[4].spec.renew_time == when
        # The refused writes took no revision: the two written follow each other.
        assert int(answers[4].metadata.resource_version) == (
            int(answers[0].metadata.resource_version) + 1
        )


def test_a_batch_replies_once_with_each_first_answer_at_its_place() -> None:
    """Each update's reply puts its first answer, object or error, at its place (a
    later one is ignored); the batch replies once, when the last place is filled."""
    sent: list[list[Any]] = []
    reply: Reply[list[Any]] = callback_reply(
        lambda answers, error: sent.append(list(answers or []))
    )
    answers = BatchAnswers(3, reply)
    places = [BatchAnswer(answers, index) for index in range(3)]
    refused = ApiError.conflict("leases", "b")
    places[2].send("c")
    places[1].fail(refused)
    places[1].send("late")
    assert sent == []
    assert places[1].done
    assert not places[0].done
    places[0].send("a")
    places[0].fail(refused)
    assert sent == [["a", refused, "c"]]


def test_a_batched_write_answers_its_place_with_the_object_or_the_error() -> None:
    """The reply of a batched update's write puts in its place the object at the
    version the store answered (through the server's bookkeeping), or the store's
    error as the API words it; the batch replies once both places are filled."""
    sent: list[list[Any]] = []
    reply: Reply[list[Any]] = callback_reply(
        lambda answers, error: sent.append(list(answers or []))
    )
    answers = BatchAnswers(2, reply)
    kind = kind_of(Lease)

    # A server that is not running: its bookkeeping after a write needs no store.
    server = ApiServer(cast(Any, None), wall_clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    leases = [_lease("a"), _lease("b")]
    places = [
        BatchWrittenReply(server, kind, b"/k/" + lease.metadata.name.encode(), lease, answers, i)
        for i, lease in enumerate(leases)
    ]
    places[1].fail(ConflictError(b"/k/b", 7, 0))  # the key is gone
    assert places[1].done
    assert sent == []
    places[0].send(WriteResult(12))
    places[0].send(WriteResult(13))  # a second answer is ignored
    [(written, gone)] = sent
    assert written.metadata.resource_version == "12"
    assert written.spec == leases[0].spec
    assert isinstance(gone, ApiError)
    assert gone.reason == "NotFound"
