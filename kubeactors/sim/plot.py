"""The cluster over time as a PNG: nodes, pods by state, evictions, and the faults.

Needs matplotlib (the `plot` extra: `pip install 'kubeactors[plot]'`), imported only
when a plot is drawn, so the rest of `kubeactors.sim` works without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .report import SimReport

__all__ = ["PlotUnavailable", "plot_report"]

# One colour per fault kind, for the shaded spans.
_FAULT_COLOURS = {
    "node-crash": "tab:red",
    "partition": "tab:orange",
    "zone-outage": "tab:purple",
    "slow-store": "tab:brown",
    "crash-loop": "tab:pink",
}


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise PlotUnavailable(
            "plotting needs matplotlib: pip install 'kubeactors[plot]'"
        ) from error
    return Figure


def _scale(until: float) -> tuple[float, str]:
    """Seconds per unit and the unit's name, so that the axis reads naturally."""
    if until >= 4 * 3600:
        return 3600.0, "hours"
    if until >= 240:
        return 60.0, "minutes"
    return 1.0, "seconds"


def plot_report(report: SimReport, path: str | Path) -> Path:
    """Draw `report`'s samples and faults into a PNG at `path`; returns the path.

    Three panels over virtual time: nodes (registered, Ready), pods by state
    (running, ready, pending, unschedulable, starting, terminating, succeeded; a
    state never seen is left out), and evictions so far.
    Each fault is a shaded span from its start to its end (or the end of the run).
    """
    figure_class = _figure_class()
    path = Path(path)
    unit, unit_name = _scale(report.until)
    samples = report.samples
    times = [s.t / unit for s in samples]
    figure = figure_class(figsize=(11, 8), layout="constrained")
    nodes_axes, pods_axes, evictions_axes = figure.subplots(3, 1, sharex=True)
    title = report.scenario or "scenario"
    figure.suptitle(f"{title} (seed {report.seed}): trace {report.trace_hash[:16]}")

    nodes_axes.plot(times, [s.nodes for s in samples], label="nodes", color="tab:gray")
    nodes_axes.plot(times, [s.nodes_ready for s in samples], label="Ready", color="tab:green")
    nodes_axes.set_ylabel("nodes")

    for field, colour in (
        ("running", "tab:green"),
        ("ready", "tab:olive"),
        ("pending", "tab:orange"),
        ("unschedulable", "tab:red"),
        ("starting", "tab:blue"),
        ("terminating", "tab:purple"),
        ("succeeded", "tab:gray"),
    ):
        values = [getattr(s, field) for s in samples]
        if any(values):
            pods_axes.plot(times, values, label=field, color=colour)
    pods_axes.set_ylabel("pods")

    evictions_axes.step(times, [s.evictions for s in samples], where="post", color="tab:red")
    evictions_axes.set_ylabel("evictions")
    evictions_axes.set_xlabel(f"virtual time ({unit_name})")

    seen: set[str] = set()
    for fault in report.faults:
        end = fault.ends if fault.ends is not None else report.until
        colour = _FAULT_COLOURS.get(fault.kind, "tab:gray")
        for axes in (nodes_axes, pods_axes, evictions_axes):
            label = fault.kind if axes is nodes_axes and fault.kind not in seen else None
            axes.axvspan(fault.at / unit, end / unit, color=colour, alpha=0.12, label=label)
        seen.add(fault.kind)
    for axes in (nodes_axes, pods_axes):
        # Beside the panel, not over the lines.
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        axes.set_ylim(bottom=0)
    evictions_axes.set_ylim(
        bottom=0, top=max(1, max((s.evictions for s in samples), default=0)) * 1.1
    )
    evictions_axes.set_xlim(0, report.until / unit)
    figure.savefig(path, format="png", dpi=100)
    return path
