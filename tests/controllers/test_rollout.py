import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    ObjectMeta,
    ReplicaSet,
    ReplicaSetSpec,
    RollingUpdateDeployment,
)
from kubeactors.controllers._rollout import (
    MAX_REPLICAS_ANNOTATION,
    max_surge_and_unavailable,
    new_replica_set_replicas,
    proportional_shares,
    resolve_int_or_percent,
    template_hash,
)

from .objects import template


def deployment(replicas: int, surge: int | str | None, unavailable: int | str | None) -> Deployment:
    rolling = RollingUpdateDeployment(max_surge=surge, max_unavailable=unavailable)
    return Deployment(
        spec=DeploymentSpec(
            replicas=replicas,
            strategy=DeploymentStrategy(type="RollingUpdate", rolling_update=rolling),
        )
    )


@pytest.mark.parametrize(
    ("value", "total", "up", "expected"),
    [
        (3, 10, True, 3),
        ("25%", 10, True, 3),
        ("25%", 10, False, 2),
        ("0%", 10, True, 0),
        ("7", 1, True, 7),
    ],
)
def test_int_or_percent(value: int | str, total: int, up: bool, expected: int) -> None:
    assert resolve_int_or_percent(value, total, round_up=up) == expected


def test_bad_percentage_is_named() -> None:
    with pytest.raises(ValueError, match="'x%'"):
        resolve_int_or_percent("x%", 10, round_up=True)


def test_fenceposts_default_to_a_quarter_and_never_both_zero() -> None:
    assert max_surge_and_unavailable(deployment(10, None, None)) == (3, 2)
    assert max_surge_and_unavailable(deployment(10, 0, 0)) == (0, 1)
    assert max_surge_and_unavailable(deployment(4, "50%", "50%")) == (2, 2)


@given(st.integers(1, 50), st.integers(0, 10), st.integers(0, 60), st.integers(0, 50))
def test_new_replica_set_never_pushes_the_total_past_the_surge(
    desired: int, surge: int, total: int, new: int
) -> None:
    d = deployment(desired, surge, 1)
    new = min(new, total)
    target = new_replica_set_replicas(d, total, new)
    if new >= desired:
        assert target == desired
    else:
        assert new <= target <= desired
        assert target == new or total + (target - new) <= desired + surge


def _rs(name: str, replicas: int, max_replicas: int) -> ReplicaSet:
    return ReplicaSet(
        metadata=ObjectMeta(name=name, annotations={MAX_REPLICAS_ANNOTATION: str(max_replicas)}),
        spec=ReplicaSetSpec(replicas=replicas),
    )


def test_proportional_scaling_keeps_shares() -> None:
    # Upstream's example: 10 replicas + 3 surge mid-rollout (8 old, 5 new), scaled to 15 + 5.
    old, new = _rs("old", 8, 13), _rs("new", 5, 13)
    assert proportional_shares([old, new], 20, 13) == [12, 8]


@given(st.lists(st.integers(0, 40), min_size=1, max_size=5), st.integers(0, 200))
def test_proportional_shares_sum_to_the_allowed_size(sizes: list[int], allowed: int) -> None:
    total = max(1, sum(sizes))
    sets = [_rs(f"rs{i}", size, total) for i, size in enumerate(sizes)]
    shares = proportional_shares(sets, allowed, total)
    assert all(share >= 0 for share in shares)
    if sum(sizes) > 0:
        assert sum(shares) == allowed


def test_template_hash_is_stable_and_tells_templates_apart() -> None:
    a = template()
    b = msgspec.structs.replace(a, spec=msgspec.structs.replace(a.spec, node_name="x"))
    assert template_hash(a) == template_hash(template())
    assert template_hash(a) != template_hash(b)
    assert template_hash(a) != template_hash(a, 1)
    assert template_hash(a).isalnum()
