"""``histogram_quantile`` over classic (``le``-bucketed) histograms, as Prometheus computes it.

Follows promql/quantile.go ``bucketQuantile``: buckets sorted by upper bound;
the highest must be ``+Inf`` (else NaN); equal bounds are merged; tiny
floating-point dips are smoothed and any remaining decrease is flattened
(the monotonic envelope); fewer than two buckets or no observations give NaN;
a rank that lands in the ``+Inf`` bucket returns the highest finite bound; the
lowest bucket starts at 0 when its upper bound is positive (and returns its
bound when that is <= 0); otherwise linear interpolation inside the bucket.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

_PRECISION_TOLERANCE = 1e-12


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """The q-quantile of cumulative ``(upper_bound, count)`` buckets; NaN when undefined."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(buckets, key=lambda bucket: bucket[0])
    if not ordered or not math.isinf(ordered[-1][0]) or ordered[-1][0] < 0:
        return math.nan
    bounds, counts = _coalesce(ordered)
    _correct_precision_errors(counts)
    _ensure_monotonic(counts)
    if len(bounds) < 2:
        return math.nan
    observations = counts[-1]
    if observations == 0 or math.isnan(observations):
        return math.nan
    rank = q * observations
    # sort.Search over all but the +Inf bucket: the first bucket whose count reaches rank.
    b = bisect.bisect_left(counts, rank, 0, len(counts) - 1)
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start = 0.0
    end = bounds[b]
    count = counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    if count == 0:  # only for q = 0 over empty lowest buckets: Go's 0/0, a NaN
        return math.nan
    return start + (end - start) * (rank / count)


def _coalesce(ordered: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    bounds: list[float] = []
    counts: list[float] = []
    for bound, count in ordered:
        if bounds and bounds[-1] == bound:
            counts[-1] += count
        else:
            bounds.append(bound)
            counts.append(count)
    return bounds, counts


def _correct_precision_errors(counts: list[float]) -> None:
    previous = counts[0]
    for i in range(1, len(counts)):
        current = counts[i]
        delta = abs(current - previous)
        if delta == 0:
            continue
        if current != 0 and delta / current <= _PRECISION_TOLERANCE:
            counts[i] = previous
        else:
            previous = current


def _ensure_monotonic(counts: list[float]) -> None:
    highest = counts[0]
    for i in range(1, len(counts)):
        if counts[i] > highest:
            highest = counts[i]
        elif counts[i] < highest:
            counts[i] = highest
