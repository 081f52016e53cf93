"""The virtual hour's verdict: every run within the goal, one trace hash."""

from __future__ import annotations

from benchmarks.sim import GOAL_SHAPE, GOAL_WALL_S, meets_goal


def test_the_goal_is_met_only_when_every_run_is_within_it_with_one_hash() -> None:
    assert meets_goal(GOAL_SHAPE, [41.0, GOAL_WALL_S], ["a", "a"]) is True
    # The best run within the goal is not enough: the slowest one decides.
    assert meets_goal(GOAL_SHAPE, [41.0, GOAL_WALL_S + 0.1], ["a", "a"]) is False
    assert meets_goal(GOAL_SHAPE, [41.0, 42.0], ["a", "b"]) is False
    assert meets_goal(GOAL_SHAPE, [], []) is False


def test_another_shape_gets_no_verdict() -> None:
    nodes, replicas, until = GOAL_SHAPE
    assert meets_goal((nodes // 5, replicas, until), [1.0], ["a"]) is None
    assert meets_goal((nodes, replicas, until / 2), [1.0], ["a"]) is None
