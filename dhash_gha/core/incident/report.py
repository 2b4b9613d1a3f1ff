"""``report.md`` of an incident: pure rendering of the facts gathered from its archive."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dhash_gha.core.clock import iso_utc
from dhash_gha.core.gates.spec import UNIT_SYMBOLS
from dhash_gha.core.incident.chart import minutes_label, xychart
from dhash_gha.core.incident.evidence import MonitorRun, TimelineEntry

ROOT_CAUSE = "Root cause"
PREVENTIVE = "Preventive measures"
PLACEHOLDERS = {
    ROOT_CAUSE: "_To be filled in by the incident owner: what failed, and why the gate caught it._",
    PREVENTIVE: "_To be filled in: what changes so this does not happen again (owner, due date)._",
}
TIMELINE_LIMIT = 300


@dataclass(frozen=True)
class GateFacts:
    name: str
    value: float | None
    threshold: float | None
    unit: str
    action: str = ""
    description: str = ""


@dataclass(frozen=True)
class BackupFacts:
    path: str
    sha256: str | None
    note: str = ""


@dataclass(frozen=True)
class IncidentFacts:
    incident_id: str
    env: str
    opened_at: datetime
    reason: str
    generated_at: datetime
    release: str | None = None
    gate: GateFacts | None = None
    thresholds: Mapping[str, tuple[float | None, str]] = field(default_factory=dict)
    run: MonitorRun | None = None
    timeline: Sequence[TimelineEntry] = ()
    actions: Sequence[TimelineEntry] = ()
    backup: BackupFacts | None = None
    evidence: Sequence[str] = ()
    kept_sections: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _num(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:.6g}"


def _unit_label(unit: str) -> str:
    return UNIT_SYMBOLS.get(unit, unit)


def _with_unit(value: float | None, unit: str) -> str:
    return _num(value) if value is None or not unit else f"{_num(value)} {_unit_label(unit)}"


def kept_sections(previous: str) -> dict[str, str]:
    """Sections an operator has filled in since the last generation (kept on regeneration)."""
    kept: dict[str, str] = {}
    for title in (ROOT_CAUSE, PREVENTIVE):
        match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", previous, re.S | re.M)
        if match:
            body = match.group(1).strip()
            if body and body != PLACEHOLDERS[title]:
                kept[title] = body
    return kept


def _gate_section(facts: IncidentFacts) -> list[str]:
    lines = ["## Gate that fired", ""]
    gate = facts.gate
    if gate is None:
        return [*lines, "No gate is recorded as failing for this incident.", ""]
    unit = f" {_unit_label(gate.unit)}" if gate.unit else ""
    lines.append(
        f"**{gate.name}**: {_num(gate.value)}{unit} against a threshold of "
        f"{_num(gate.threshold)}{unit} (fails when strictly greater)"
        + (f"; action: {gate.action}" if gate.action else "")
    )
    if gate.description:
        lines += ["", f"> {gate.description}"]
    lines.append("")
    run = facts.run
    if run is not None and run.polls:
        lines += [
            "| gate | last value | highest value | threshold | last status |",
            "|---|---|---|---|---|",
        ]
        for name in run.gates():
            values = [p.values.get(name) for p in run.polls]
            known = [v for v in values if v is not None]
            threshold, g_unit = facts.thresholds.get(name, (None, ""))
            last_status = run.polls[-1].statuses.get(name, "")
            lines.append(
                f"| {_cell(name)} | {_with_unit(values[-1], g_unit)} | "
                f"{_with_unit(max(known) if known else None, g_unit)} | "
                f"{_with_unit(threshold, g_unit)} | {_cell(last_status)} |"
            )
        lines.append("")
    return lines


def _chart_section(facts: IncidentFacts) -> list[str]:
    lines = ["## Chart", ""]
    run, gate = facts.run, facts.gate
    if run is None or gate is None or gate.threshold is None:
        return [*lines, "No monitoring run with poll values was archived for this gate.", ""]
    values = [p.values.get(gate.name) for p in run.polls]
    labels = [minutes_label(p.minutes) for p in run.polls]
    unit = gate.unit or "value"
    lines += [
        f"{gate.name} at each of the {len(values)} poll(s) of monitoring run `{run.run_id}` "
        f"(first line) against its threshold {_num(gate.threshold)} {unit} (second line).",
        "",
        xychart(f"{gate.name} vs threshold ({facts.env})", unit, labels, values, gate.threshold),
        "",
        "<details><summary>Poll values</summary>",
        "",
        "| poll | time (UTC) | minute | value | status |",
        "|---|---|---|---|---|",
    ]
    for poll in run.polls:
        lines.append(
            f"| {poll.number} | {iso_utc(poll.at)} | {minutes_label(poll.minutes)} | "
            f"{_num(poll.values.get(gate.name))} | {_cell(poll.statuses.get(gate.name, ''))} |"
        )
    return [*lines, "", "</details>", ""]


def _entries(title: str, entries: Sequence[TimelineEntry], empty: str) -> list[str]:
    lines = [f"## {title}", ""]
    if not entries:
        return [*lines, empty, ""]
    ordered = sorted(entries, key=lambda e: e.at)
    shown = ordered[:TIMELINE_LIMIT]
    lines += ["| time (UTC) | source | event |", "|---|---|---|"]
    lines += [f"| {iso_utc(e.at)} | {_cell(e.source)} | {_cell(e.what)} |" for e in shown]
    if len(ordered) > len(shown):
        lines.append(f"\n_{len(ordered) - len(shown)} more entries: see the archived logs._")
    return [*lines, ""]


def render_report(facts: IncidentFacts) -> str:
    lines = [
        f"# Incident {facts.incident_id} — {facts.env}",
        "",
        "| | |",
        "|---|---|",
        f"| Environment | {_cell(facts.env)} |",
        f"| Opened | {iso_utc(facts.opened_at)} |",
        f"| Reason | {_cell(facts.reason)} |",
        f"| Release | {_cell(facts.release or 'unknown')} |",
    ]
    if facts.run is not None:
        polls = len(facts.run.polls)
        lines.append(
            f"| Monitoring run | {_cell(facts.run.run_id)} ({polls} poll{'s' if polls != 1 else ''}) |"
        )
    lines.append("")
    lines += _gate_section(facts)
    lines += _chart_section(facts)
    lines += _entries(
        "Actions and outcomes",
        facts.actions,
        "No deploy, rollback, smoke-test or notification was logged.",
    )
    lines += ["## Backup used", ""]
    if facts.backup is None:
        lines += ["No backup is recorded for this incident.", ""]
    else:
        lines += [
            f"- path: `{facts.backup.path}`",
            f"- sha256: `{facts.backup.sha256}`" if facts.backup.sha256 else "- sha256: unknown",
        ]
        if facts.backup.note:
            lines.append(f"- note: {facts.backup.note}")
        lines.append("")
    lines += _entries("Timeline", facts.timeline, "No log events were archived.")
    lines += ["## Evidence", "", "Archived in this directory:", ""]
    lines += [f"- `{name}`" for name in facts.evidence] or ["- (nothing)"]
    lines.append("")
    for title in (ROOT_CAUSE, PREVENTIVE):
        lines += [f"## {title}", "", facts.kept_sections.get(title, PLACEHOLDERS[title]), ""]
    lines.append(
        f"_Report generated {iso_utc(facts.generated_at)} by `dhash-gha incident report {facts.incident_id}`._"
    )
    return "\n".join(lines) + "\n"
