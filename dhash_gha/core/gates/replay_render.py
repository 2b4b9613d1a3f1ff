"""A gate replay report as text for operators and as JSON for tools. Pure."""

from __future__ import annotations

from typing import Any

from dhash_gha.core.gates.replay import ConfigOutcome, Firing, ReplayReport, RunReplay


def _elapsed(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"+{minutes}m{rest:02d}s"


def _firing_line(firing: Firing) -> str:
    consequence = {
        "rollback": "→ rollback",
        "alert": "→ alert only",
        "dry-run": "→ dry-run (would have rolled back)",
    }.get(firing.action, f"→ {firing.action}")
    when = f"poll {firing.poll} ({_elapsed(firing.elapsed)}{', ' + firing.ts if firing.ts else ''})"
    return f"{firing.gate} fired at {when}: {firing.reason} {consequence}"


def _outcome_lines(label: str, outcome: ConfigOutcome, polls: int) -> list[str]:
    pad = " " * len(label)
    lines = [f"{label}no gate fired"] if not outcome.firings else []
    for index, firing in enumerate(outcome.firings):
        failing = outcome.failed_polls.get(firing.gate, 0)
        lines.append(
            f"{label if index == 0 else pad}{_firing_line(firing)}; failing at {failing} poll(s)"
        )
    silent = sorted(gate for gate, n in outcome.inconclusive_polls.items() if n == polls)
    if silent:
        lines.append(f"{pad}no verdict at any poll (no data): {', '.join(silent)}")
    return lines


def render_run(replayed: RunReplay, has_candidate: bool) -> list[str]:
    run = replayed.run
    where = ", ".join(run.sources)
    head = f"run {run.run_id} ({where}): {len(run.polls)} poll(s) over {run.duration / 60:.1f} min"
    if run.outcome:
        head += f", recorded outcome: {run.outcome}"
    lines = [head]
    polls = len(run.polls)
    lines += ["  " + line for line in _outcome_lines("current:   ", replayed.current, polls)]
    if replayed.current.recorded_mismatches:
        lines.append(
            f"  note: {replayed.current.recorded_mismatches} gate verdict(s) differ from what "
            "the monitor logged (the gate config or the engine changed since)"
        )
    if has_candidate and replayed.candidate is not None:
        lines += ["  " + line for line in _outcome_lines("candidate: ", replayed.candidate, polls)]
        lines.append(f"  change: {replayed.change}")
    return lines


def render_text(report: ReplayReport) -> list[str]:
    has_candidate = report.candidate_label is not None
    lines = [
        f"Gate replay for {report.env}: {len(report.runs)} run(s) from {len(report.files)} "
        f"log file(s)" + (f"; candidate: {report.candidate_label}" if has_candidate else "")
    ]
    for replayed in report.runs:
        lines.append("")
        lines += render_run(replayed, has_candidate)
    lines.append("")
    total = len(report.runs)
    summary = (
        f"Summary: the current config rolls back {report.rollbacks('current')} of {total} run(s)"
    )
    if has_candidate:
        summary += (
            f"; the candidate rolls back {report.rollbacks('candidate')}: "
            f"{report.count('rollback avoided')} rollback(s) avoided, "
            f"{report.count('rollback added')} added"
        )
    lines.append(summary + ".")
    return lines


def _cell(outcome: ConfigOutcome | None) -> str:
    if outcome is None:
        return "—"
    if not outcome.firings:
        return "no gate fired"
    return "<br>".join(
        f"`{f.gate}` poll {f.poll} ({_elapsed(f.elapsed)}) → {f.action}" for f in outcome.firings
    )


def render_markdown(report: ReplayReport) -> str:
    """The report as a job summary: one table row per run."""
    has_candidate = report.candidate_label is not None
    lines = [f"### Gate replay: {report.env}", ""]
    if has_candidate:
        lines += [
            f"Candidate: `{report.candidate_label}`",
            "",
            "| run | polls | current | candidate | change |",
            "|---|---|---|---|---|",
        ]
    else:
        lines += ["| run | polls | current |", "|---|---|---|"]
    for r in report.runs:
        row = f"| `{r.run.run_id}` | {len(r.run.polls)} | {_cell(r.current)} |"
        if has_candidate:
            row += f" {_cell(r.candidate)} | {r.change} |"
        lines.append(row)
    lines += ["", render_text(report)[-1]]
    return "\n".join(lines)


def _firing_json(firing: Firing) -> dict[str, Any]:
    return {
        "gate": firing.gate,
        "action": firing.action,
        "poll": firing.poll,
        "elapsed_seconds": firing.elapsed,
        "ts": firing.ts,
        "value": firing.value,
        "reason": firing.reason,
    }


def _outcome_json(outcome: ConfigOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    rollback = outcome.rollback
    return {
        "fired": [_firing_json(f) for f in outcome.firings],
        "rollback": _firing_json(rollback) if rollback is not None else None,
        "failed_polls": dict(outcome.failed_polls),
        "inconclusive_polls": dict(outcome.inconclusive_polls),
        "recorded_mismatches": outcome.recorded_mismatches,
    }


def report_json(report: ReplayReport) -> dict[str, Any]:
    return {
        "environment": report.env,
        "candidate": report.candidate_label,
        "files": report.files,
        "lines": report.lines,
        "skipped_lines": report.skipped,
        "skipped_examples": report.skipped_examples,
        "summary": {
            "runs": len(report.runs),
            "rollbacks_current": report.rollbacks("current"),
            "rollbacks_candidate": (
                report.rollbacks("candidate") if report.candidate_label is not None else None
            ),
            "rollbacks_avoided": report.count("rollback avoided"),
            "rollbacks_added": report.count("rollback added"),
        },
        "runs": [
            {
                "run": r.run.run_id,
                "env": r.run.env,
                "files": r.run.sources,
                "polls": len(r.run.polls),
                "duration_seconds": r.run.duration,
                "gates_sha256": r.run.gates_sha256,
                "recorded_outcome": r.run.outcome,
                "current": _outcome_json(r.current),
                "candidate": _outcome_json(r.candidate),
                "change": r.change or None,
            }
            for r in report.runs
        ],
    }
