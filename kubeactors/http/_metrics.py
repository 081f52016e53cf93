"""Request counts, latencies and watch figures, written in Prometheus' text format."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Collector", "Metrics", "Sample"]

# Upstream's apiserver_request_duration_seconds buckets (a subset).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class Sample:
    """One gauge or counter value another component reports (scheduler, store)."""

    name: str
    help: str
    value: float
    type: str = "gauge"


Collector = Callable[[], Awaitable[list[Sample]]]


def _labels(**labels: str) -> str:
    escaped = (
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in labels.items()
    )
    return "{" + ",".join(escaped) + "}"


class Metrics:
    """What the HTTP layer counts; `render()` adds the collectors' samples."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self._latency: dict[tuple[str, str], list[int]] = {}
        self._latency_sum: dict[tuple[str, str], float] = {}
        self.watches_open: Counter[str] = Counter()
        self.watch_events: Counter[str] = Counter()
        self.collectors: list[Collector] = []

    def observe(self, verb: str, resource: str, code: int, seconds: float) -> None:
        self.requests[(verb, resource, code)] += 1
        key = (verb, resource)
        counts = self._latency.setdefault(key, [0] * (len(_BUCKETS) + 1))
        counts[bisect.bisect_left(_BUCKETS, seconds)] += 1
        self._latency_sum[key] = self._latency_sum.get(key, 0.0) + seconds

    async def render(self) -> str:
        lines = [
            "# HELP apiserver_request_total Requests by verb, resource and HTTP code.",
            "# TYPE apiserver_request_total counter",
        ]
        for (verb, resource, code), count in sorted(self.requests.items()):
            labels = _labels(verb=verb, resource=resource, code=str(code))
            lines.append(f"apiserver_request_total{labels} {count}")
        name = "apiserver_request_duration_seconds"
        lines += [
            f"# HELP {name} Request latency by verb and resource.",
            f"# TYPE {name} histogram",
        ]
        for (verb, resource), counts in sorted(self._latency.items()):
            cumulative = 0
            for bound, count in zip((*_BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                labels = _labels(verb=verb, resource=resource, le=le)
                lines.append(f"{name}_bucket{labels} {cumulative}")
            labels = _labels(verb=verb, resource=resource)
            lines.append(f"{name}_sum{labels} {self._latency_sum[(verb, resource)]!r}")
            lines.append(f"{name}_count{labels} {cumulative}")
        lines += [
            "# HELP apiserver_registered_watchers Watches open now, by kind.",
            "# TYPE apiserver_registered_watchers gauge",
        ]
        for kind, count in sorted(self.watches_open.items()):
            lines.append(f"apiserver_registered_watchers{_labels(kind=kind)} {count}")
        lines += [
            "# HELP apiserver_watch_events_total Events sent to watchers, by kind.",
            "# TYPE apiserver_watch_events_total counter",
        ]
        for kind, count in sorted(self.watch_events.items()):
            lines.append(f"apiserver_watch_events_total{_labels(kind=kind)} {count}")
        for collect in self.collectors:
            for sample in await collect():
                lines += [
                    f"# HELP {sample.name} {sample.help}",
                    f"# TYPE {sample.name} {sample.type}",
                    f"{sample.name} {sample.value!r}",
                ]
        return "\n".join(lines) + "\n"
