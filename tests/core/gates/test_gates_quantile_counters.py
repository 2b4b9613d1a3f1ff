"""histogram_quantile as Prometheus computes it, and counter increase with resets."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhash_gha.core.gates.counters import increase, ratio_percent, reset_corrections
from dhash_gha.core.gates.quantile import bucket_quantile

INF = math.inf


def test_linear_interpolation_inside_a_bucket() -> None:
    # 100 observations: 50 ≤ 0.1, 90 ≤ 0.5, 100 ≤ 1. q 0.95 → rank 95 in (0.5, 1]: 0.5 + 0.5 * 5/10
    assert bucket_quantile(0.95, [(0.1, 50), (0.5, 90), (1.0, 100), (INF, 100)]) == 0.75


def test_lowest_bucket_starts_at_zero_when_its_bound_is_positive() -> None:
    assert bucket_quantile(0.5, [(0.2, 100), (INF, 100)]) == pytest.approx(0.1)


def test_lowest_bucket_bound_returned_when_not_positive() -> None:
    assert bucket_quantile(0.5, [(-1.0, 100), (INF, 100)]) == -1.0
    assert bucket_quantile(0.5, [(0.0, 100), (INF, 100)]) == 0.0


def test_rank_in_inf_bucket_returns_highest_finite_bound() -> None:
    assert bucket_quantile(0.99, [(0.5, 10), (2.0, 50), (INF, 100)]) == 2.0


def test_buckets_are_sorted_first() -> None:
    assert bucket_quantile(0.95, [(INF, 100), (1.0, 100), (0.1, 50), (0.5, 90)]) == 0.75


@pytest.mark.parametrize(
    "buckets",
    [
        [],  # nothing at all
        [(0.5, 10), (1.0, 20)],  # no +Inf bucket
        [(INF, 10)],  # fewer than two buckets
        [(0.5, 0), (INF, 0)],  # no observations
    ],
)
def test_undefined_quantiles_are_nan(buckets: list[tuple[float, float]]) -> None:
    assert math.isnan(bucket_quantile(0.95, buckets))


def test_non_monotonic_counts_take_the_envelope() -> None:
    # 0.5 has fewer than 0.1 (inconsistent data): treated as 60, like Prometheus.
    assert bucket_quantile(0.5, [(0.1, 60), (0.5, 40), (1.0, 100), (INF, 100)]) == pytest.approx(
        0.1 * 50 / 60
    )


def test_out_of_range_quantiles() -> None:
    buckets = [(1.0, 1), (INF, 1)]
    assert bucket_quantile(-0.1, buckets) == -INF
    assert bucket_quantile(1.1, buckets) == INF
    assert math.isnan(bucket_quantile(math.nan, buckets))


def test_quantile_zero_and_one() -> None:
    buckets = [(0.5, 10), (1.0, 20), (INF, 20)]
    assert bucket_quantile(0.0, buckets) == 0.0
    assert bucket_quantile(1.0, buckets) == 1.0


def test_increase_without_reset() -> None:
    assert increase([10, 15, 15, 30]) == 20


def test_increase_with_reset_adds_value_after_restart() -> None:
    # 10 → 15 (+5), restart → 3 (+3), → 8 (+5)
    assert increase([10, 15, 3, 8]) == 13
    assert reset_corrections([10, 15, 3, 8]) == [15]


def test_increase_of_fewer_than_two_values_is_zero() -> None:
    assert increase([]) == 0 and increase([42]) == 0


def test_ratio_percent_without_attempts_is_none() -> None:
    assert ratio_percent(0, 0) is None
    assert ratio_percent(1, 20) == 5.0
    assert ratio_percent(1, math.nan) is None
    assert ratio_percent(INF, INF) is None
    assert ratio_percent(increase([INF, INF]), 10) is None


# --- properties ------------------------------------------------------------------------------
def reference_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus's bucketQuantile restated with plain loops (no bisect, no helpers)."""
    merged: dict[float, float] = {}
    for bound, count in buckets:
        merged[bound] = merged.get(bound, 0.0) + count
    bounds = sorted(merged)
    if not bounds or bounds[-1] != INF or len(bounds) < 2:
        return math.nan
    counts, highest = [], -INF
    for bound in bounds:
        highest = max(highest, merged[bound])
        counts.append(highest)
    if counts[-1] == 0:
        return math.nan
    rank = q * counts[-1]
    index = len(bounds) - 1
    for i in range(len(bounds) - 1):
        if counts[i] >= rank:
            index = i
            break
    if index == len(bounds) - 1:
        return bounds[-2]
    if index == 0:
        if bounds[0] <= 0:
            return bounds[0]
        return math.nan if counts[0] == 0 else bounds[0] * (rank / counts[0])
    low, below = bounds[index - 1], counts[index - 1]
    return low + (bounds[index] - low) * ((rank - below) / (counts[index] - below))


bound_values = st.sampled_from([-1.0, 0.0, 0.005, 0.1, 0.25, 1.0, 2.5, 10.0, INF])


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(bound_values, st.integers(0, 50).map(float)), max_size=10),
    st.sampled_from([0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0]),
)
def test_bucket_quantile_matches_reference(buckets: list[tuple[float, float]], q: float) -> None:
    expected = reference_quantile(q, buckets)
    got = bucket_quantile(q, buckets)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 1000).map(float), max_size=30))
def test_increase_equals_sum_of_reset_aware_deltas(values: list[float]) -> None:
    expected = sum((b - a) if b >= a else b for a, b in itertools.pairwise(values))
    assert increase(values) == expected
    assert increase(values) >= 0
