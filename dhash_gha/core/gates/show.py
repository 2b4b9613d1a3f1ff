"""An environment's gates and schedule as a table (``gates show``) or JSON. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dhash_gha.core.gates.schedule import Schedule
from dhash_gha.core.gates.spec import GateSpec

_COLUMNS = ("gate", "kind", "fails when", "window", "action", "min samples", "no data")


def _row(spec: GateSpec) -> tuple[str, ...]:
    fails_when = spec.describe_threshold()
    if spec.relative_to_baseline:
        fails_when += " (or > baseline)"
    return (
        spec.name,
        spec.kind + (" (prometheus)" if spec.source == "prometheus" else ""),
        fails_when,
        spec.describe_window(),
        spec.action,
        str(spec.min_samples),
        spec.no_data,
    )


def gates_table(env: str, specs: Sequence[GateSpec], schedule: Schedule, source: str) -> list[str]:
    rows = [_COLUMNS, *(_row(spec) for spec in specs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()

    out = [
        f"Quality gates for {env} ({source}); a gate fails when its value is > its threshold",
        "",
    ]
    out.append(line(rows[0]))
    out.append(line(tuple("-" * w for w in widths)))
    out += [line(row) for row in rows[1:]]
    polls = schedule.poll_times()
    out += [
        "",
        f"Schedule: {schedule.duration_seconds / 60:g} min, {len(polls)} polls",
        *(f"  {phase}" for phase in schedule.describe()),
    ]
    return out


def gates_json(env: str, specs: Sequence[GateSpec], schedule: Schedule) -> dict[str, Any]:
    return {
        "environment": env,
        "gates": [
            {
                "name": s.name,
                "kind": s.kind,
                "source": s.source,
                "operator": ">",
                "threshold": s.threshold,
                "unit": s.unit,
                "window_seconds": s.window_seconds,
                "action": s.action,
                "min_samples": s.min_samples,
                "no_data": s.no_data,
                "baseline": s.baseline,
                "description": s.description,
            }
            for s in specs
        ],
        "schedule": {
            "duration_seconds": schedule.duration_seconds,
            "phases": [
                {"until_seconds": p.until_seconds, "interval_seconds": p.interval_seconds}
                for p in schedule.phases
            ],
            "poll_times": schedule.poll_times(),
        },
    }
