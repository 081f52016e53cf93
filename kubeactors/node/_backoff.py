"""Container restart back-off, as the kubelet's: 10 s doubling to 5 minutes."""

from __future__ import annotations

__all__ = ["BackOff"]


class BackOff:
    """Per-container restart delays (keyed by "pod-uid/container").

    As upstream's flowcontrol back-off used by kuberuntime: a container that fails
    for the first time restarts at once and sets the delay to `initial`; each
    further failure within the delay of the last finish waits out that delay (the
    container shows CrashLoopBackOff), then restarts and doubles it, up to
    `maximum`. An entry idle for twice `maximum` starts over.
    """

    __slots__ = ("_entries", "initial", "maximum")

    def __init__(self, initial: float = 10.0, maximum: float = 300.0) -> None:
        if not 0 < initial <= maximum:
            raise ValueError(
                f"back-off: need 0 < initial <= maximum, got initial={initial}, maximum={maximum}"
            )
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, tuple[float, float]] = {}
        """key -> (current delay, when it was last raised)"""

    def remaining(self, key: str, finished_at: float, now: float) -> float:
        """Seconds still to wait before restarting a container that finished at `finished_at`."""
        entry = self._entries.get(key)
        if entry is None or now - entry[1] > 2 * self.maximum:
            return 0.0
        return max(0.0, finished_at + entry[0] - now)

    def delay(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry[0] if entry is not None else 0.0

    def restarted(self, key: str, now: float) -> None:
        """Record a restart: the next failure waits longer."""
        entry = self._entries.get(key)
        if entry is None or now - entry[1] > 2 * self.maximum:
            self._entries[key] = (self.initial, now)
        else:
            self._entries[key] = (min(entry[0] * 2, self.maximum), now)

    def forget(self, prefix: str) -> None:
        """Drop every entry of a pod ("pod-uid/")."""
        for key in [key for key in self._entries if key.startswith(prefix)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
