from hypothesis import given
from hypothesis import strategies as st

from kubeactors.scheduler import SchedulingQueue
from kubeactors.scheduler.plugins import PrioritySort, SchedulingGates

from .strategies import info_of


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _queue(clock: FakeClock) -> SchedulingQueue:
    sort = PrioritySort({}, None)  # type: ignore[arg-type]
    gates = SchedulingGates({}, None)  # type: ignore[arg-type]
    return SchedulingQueue(clock, sort.sort_key, [gates])


def _pod(name: str, priority: int = 0, gates: list[str] | None = None) -> dict[str, object]:
    spec: dict[str, object] = {"containers": [{"name": "a"}], "priority": priority}
    if gates:
        spec["schedulingGates"] = [{"name": gate} for gate in gates]
    return {"metadata": {"name": name}, "spec": spec}


@given(st.lists(st.integers(-5, 5), min_size=1, max_size=30))
def test_active_queue_pops_by_priority_then_arrival(priorities: list[int]) -> None:
    clock = FakeClock()
    queue = _queue(clock)
    for index, priority in enumerate(priorities):
        clock.now = float(index)
        queue.add(info_of(_pod(f"p{index}", priority)))
    popped = []
    while (queued := queue.pop()) is not None:
        popped.append((queued.info.priority, queued.arrival))
    assert popped == sorted(popped, key=lambda item: (-item[0], item[1]))
    assert len(popped) == len(priorities)


def test_backoff_doubles_from_one_second_to_ten() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    queue.add(info_of(_pod("p")))
    waits = []
    for _ in range(6):
        queued = queue.pop()
        assert queued is not None
        started = clock.now
        queue.retry(queued, "bind failed")
        while queue.pop() is None:
            clock.now += 0.25
            queue.flush()
            assert clock.now - started <= 10.0
        # pop() took it: put it back as it was for the next round
        queued.attempts -= 1
        queue.pods[queued.key].where = "active"
        queue._push(queued)
        waits.append(clock.now - started)
    assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_unschedulable_pods_wait_for_an_event_or_five_minutes() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    queue.add(info_of(_pod("a")))
    queue.add(info_of(_pod("b")))
    a, b = queue.pop(), queue.pop()
    assert a is not None
    assert b is not None
    queue.unschedulable(a, {"NodeResourcesFit"}, "0/1 nodes are available: 1 Insufficient cpu.")
    queue.unschedulable(b, {"InterPodAffinity"}, "0/1 nodes are available: ...")
    clock.now = 60.0
    queue.flush()
    assert queue.pop() is None  # no event, not yet five minutes
    assert queue.move({"InterPodAffinity"}) == 1  # a bound pod appeared: only b can care
    popped = queue.pop()
    assert popped is not None
    assert popped.key == "default/b"
    assert queue.pop() is None
    clock.now = 300.0
    queue.flush()
    popped = queue.pop()
    assert popped is not None
    assert popped.key == "default/a"


def test_an_event_during_the_attempt_sends_the_pod_to_backoff_not_to_the_pool() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    queue.add(info_of(_pod("a")))
    queued = queue.pop()
    assert queued is not None
    queue.move()  # a node was added while the pod was being tried
    queue.unschedulable(queued, {"NodeResourcesFit"}, "no room")
    assert queue.keys("backoff") == ["default/a"]


def test_gated_pods_wait_until_their_gates_are_removed() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    queue.add(info_of(_pod("g", gates=["example.com/quota"])))
    assert queue.pop() is None
    assert queue.keys("gated") == ["default/g"]
    queue.add(info_of(_pod("g")))
    popped = queue.pop()
    assert popped is not None
    assert popped.key == "default/g"


@given(
    st.lists(st.tuples(st.integers(0, 2), st.sampled_from([b"", b"a", b"b"])), max_size=30),
    st.lists(st.integers(0, 29), max_size=5),
    st.integers(1, 8),
)
def test_runs_pop_what_single_pops_would_up_to_the_first_unlike_pod(
    pods: list[tuple[int, bytes]], deleted: list[int], limit: int
) -> None:
    queues = []
    for _ in range(2):
        clock = FakeClock()
        queue = _queue(clock)
        for index, (priority, signature) in enumerate(pods):
            clock.now = float(index)
            info = info_of(_pod(f"p{index}", priority))
            info.signature = signature
            queue.add(info)
        for index in deleted:
            queue.delete(f"default/p{index}")
        queues.append(queue)
    by_run, one_by_one = queues
    runs: list[list[str]] = []
    while popped := by_run.pop_run(limit):
        runs.append([queued.key for queued in popped])
    singles: list[tuple[str, bytes]] = []
    while (queued := one_by_one.pop()) is not None:
        singles.append((queued.key, queued.info.signature))
    assert [key for run in runs for key in run] == [key for key, _ in singles]
    signature_of = dict(singles)
    for index, run in enumerate(runs):
        assert len(run) <= limit
        alike = {signature_of[key] for key in run}
        if len(run) > 1:
            assert len(alike) == 1
            assert alike != {b""}
        if index + 1 < len(runs) and len(run) < limit and alike != {b""}:
            # A run stops only where it must: at a pod unlike it.
            assert signature_of[runs[index + 1][0]] not in alike
