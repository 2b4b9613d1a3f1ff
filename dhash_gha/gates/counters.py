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
