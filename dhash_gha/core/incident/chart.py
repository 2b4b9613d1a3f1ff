"""A Mermaid ``xychart-beta`` of a gate's value at every poll against its threshold.

GitHub renders Mermaid in issues, comments and job summaries, so the chart
travels with the report. Mermaid has no gaps in a line: a poll without data is
drawn at 0 and marked in the poll table next to the chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _label(text: str) -> str:
    """A Mermaid string literal: double quotes are not escapable there, so drop them."""
    return '"' + text.replace('"', "'") + '"'


def nice_ceiling(value: float) -> float:
    """A round upper bound a little above ``value`` (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^n)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    target = value * 1.1
    magnitude = 10 ** math.floor(math.log10(target))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= target:
            return float(step * magnitude)
    return float(10 * magnitude)


def minutes_label(minutes: float) -> str:
    return _number(round(minutes, 1))


def xychart(
    title: str,
    unit: str,
    x_labels: Sequence[str],
    values: Sequence[float | None],
    threshold: float,
) -> str:
    """Mermaid source: x = minutes since the monitor started, line 1 = value, line 2 = threshold."""
    if len(x_labels) != len(values):
        raise ValueError("one x label per value")
    drawn = [0.0 if v is None or not math.isfinite(v) else float(v) for v in values]
    top = nice_ceiling(max([*drawn, threshold, 0.0]))
    lines = [
        "```mermaid",
        "xychart-beta",
        f"    title {_label(title)}",
        f"    x-axis {_label('minutes since monitoring started')} "
        f"[{', '.join(_label(x) for x in x_labels)}]",
        f"    y-axis {_label(unit or 'value')} 0 --> {_number(top)}",
        f"    line [{', '.join(_number(v) for v in drawn)}]",
        f"    line [{', '.join(_number(threshold) for _ in drawn)}]",
        "```",
    ]
    return "\n".join(lines)
