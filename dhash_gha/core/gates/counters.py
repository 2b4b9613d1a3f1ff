"""Counter increase over a window, with counter resets handled as Prometheus does.

A counter only goes up; a drop means the process restarted and the counter
began again from zero, so the new value is all increase since the restart.
Summing the deltas that way equals ``last - first`` plus, for each drop, the
value just before it. That second form is what both the engine and the
incremental replay evaluator compute, term by term in the same order, so
their results are bit-identical.

No extrapolation to the window's edges (Prometheus's ``increase`` extrapolates):
the gates judge what was observed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def reset_corrections(values: Sequence[float]) -> list[float]:
    """For each drop (a counter reset), the value just before it, in order."""
    return [values[i - 1] for i in range(1, len(values)) if values[i] < values[i - 1]]


def joint_increases(series: Sequence[Sequence[float]]) -> list[float]:
    """The increase of counters of one process observed together (same length, oldest first).

    A drop of any of them means the process restarted, so every one of them began
    again from zero there, even one whose new value is not lower than its old one
    (5 failures, a restart, then 7: all 7 are new).
    """
    length = len(series[0]) if series else 0
    restarts = [i for i in range(1, length) if any(values[i] < values[i - 1] for values in series)]
    return [
        increase_from(values[0], values[-1], [values[i - 1] for i in restarts])
        if length >= 2
        else 0.0
        for values in series
    ]


def increase_from(first: float, last: float, corrections: Sequence[float]) -> float:
    """``last - first`` plus each reset correction, added left to right."""
    total = last - first
    for correction in corrections:
        total += correction
    return total


def increase(values: Sequence[float]) -> float:
    """The increase of a counter observed as ``values`` (oldest first); 0 for < 2 values."""
    if len(values) < 2:
        return 0.0
    return increase_from(values[0], values[-1], reset_corrections(values))


def ratio_percent(numerator: float, denominator: float) -> float | None:
    """``100 * numerator / denominator``; None when nothing was attempted."""
    if not denominator > 0:  # also NaN: an infinite counter minus itself
        return None
    ratio = 100.0 * numerator / denominator
    return None if math.isnan(ratio) else ratio
