"""A report as rich tables, for `kubeactors sim` to print."""

from __future__ import annotations

from rich.table import Table

from .duration import format_duration
from .report import SimReport

__all__ = ["report_tables"]


def _seconds(value: float | None) -> str:
    return "-" if value is None else format_duration(round(value, 3))


def report_tables(report: SimReport, wall_s: float) -> list[Table]:
    """The headline figures, then each fault (if any), then each violation (if any)."""
    title = f"{report.scenario or 'scenario'}: seed {report.seed}, {_seconds(report.until)}"
    summary = Table(title=title, show_header=False)
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    rows = {
        "virtual time": _seconds(report.until),
        "wall time": f"{wall_s:.2f} s",
        "nodes": str(report.nodes),
        "pods created": str(report.pods_created),
        "pods scheduled": str(report.pods_scheduled),
        "pods succeeded": str(report.pods_succeeded),
        "evictions": str(report.evictions),
        "time unschedulable": _seconds(report.unschedulable_s),
        "pod-time unschedulable": _seconds(report.unschedulable_pod_s),
        "invariant checks": str(report.checks),
        "invariant violations": str(len(report.violations)),
        "API writes (pods, nodes)": str(report.api_writes),
        "trace hash": report.trace_hash,
    }
    for name, value in rows.items():
        summary.add_row(name, value)
    tables = [summary]
    if report.faults:
        faults = Table(title="faults")
        for column in ("kind", "target", "at", "ends", "impact after", "recovered after"):
            faults.add_column(column, justify="left" if column in ("kind", "target") else "right")
        for fault in report.faults:
            faults.add_row(
                fault.kind,
                fault.target,
                _seconds(fault.at),
                _seconds(fault.ends),
                _seconds(fault.impact_s) if fault.impact_s is not None else "no impact",
                _seconds(fault.recovered_s)
                if fault.recovered_s is not None
                else ("-" if fault.impact_s is None else "not recovered"),
            )
        tables.append(faults)
    if report.violations:
        violations = Table(title="invariant violations (first seen)")
        for column in ("at", "invariant", "message"):
            violations.add_column(column)
        for seen in report.violations:
            violations.add_row(_seconds(seen.t), seen.invariant, seen.message)
        tables.append(violations)
    return tables
