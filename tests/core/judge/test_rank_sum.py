"""The rank-sum test against scipy and against R's algorithm written out literally.

The reference for the interval follows R's ``wilcox.test.default`` (normal
approximation, two-sample branch) step by step with scipy's ``rankdata``: its
``wdiff(d, zq)`` ranks ``c(x - d, y)``, takes the tie table of those ranks, the
continuity-corrected statistic and the tie-corrected sigma; its ``root`` returns
``mumin`` when ``wdiff(mumin) <= 0``, ``mumax`` when ``wdiff(mumax) >= 0``, else the
point where ``wdiff`` changes sign, which uniroot approaches to within 1e-4.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq  # type: ignore[import-untyped]
from scipy.stats import mannwhitneyu, norm, rankdata  # type: ignore[import-untyped]

from dhash_gha.core.judge.rank_sum import rank_sum_test
from dhash_gha.errors import BadInput


# --- R's algorithm, literally ------------------------------------------------------------------
def r_wdiff(x: Sequence[float], y: Sequence[float], d: float, zq: float, correct: bool) -> float:
    nx, ny = len(x), len(y)
    dr = rankdata(np.concatenate([np.asarray(x, dtype=float) - d, np.asarray(y, dtype=float)]))
    _, nties = np.unique(dr, return_counts=True)
    dz = float(np.sum(dr[:nx])) - nx * (nx + 1) / 2 - nx * ny / 2
    correction = float(np.sign(dz)) * 0.5 if correct else 0.0
    sigma = math.sqrt(
        (nx * ny / 12)
        * (
            (nx + ny + 1)
            - float(np.sum(nties.astype(float) ** 3 - nties)) / ((nx + ny) * (nx + ny - 1))
        )
    )
    if sigma == 0:
        raise ZeroDivisionError("cannot compute confidence interval when all observations are tied")
    return (dz - correction) / sigma - zq


def r_root_limit(x: Sequence[float], y: Sequence[float], zq: float) -> float:
    """R's ``root(zq)``: the endpoints by R's own checks, else the sign change of ``wdiff``
    between pairwise differences (its values strictly between them, where it is constant)."""
    distinct = sorted({xi - yj for xi in x for yj in y})
    mumin, mumax = distinct[0], distinct[-1]
    if r_wdiff(x, y, mumin, zq, True) <= 0:
        return mumin
    if r_wdiff(x, y, mumax, zq, True) >= 0:
        return mumax
    between = [r_wdiff(x, y, (a + b) / 2, zq, True) for a, b in pairwise(distinct)]
    for index, value in enumerate(between):
        if value <= 0:  # positive before (or at mumin), not positive after distinct[index]
            return distinct[index]
    return mumax


def r_interval(
    x: Sequence[float], y: Sequence[float], confidence_level: float
) -> tuple[float, float]:
    alpha = 1 - confidence_level
    return (
        r_root_limit(x, y, float(norm.isf(alpha / 2))),
        r_root_limit(x, y, float(norm.ppf(alpha / 2))),
    )


def brute_w(x: Sequence[float], y: Sequence[float]) -> float:
    return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)


def check_against_references(x: list[float], y: list[float], level: float) -> None:
    result = rank_sum_test(x, y, confidence_level=level)
    scipy = mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert result.w == brute_w(x, y) == float(scipy.statistic)
    assert result.p_value == pytest.approx(float(scipy.pvalue), rel=1e-9, abs=1e-15)
    differences = np.subtract.outer(np.asarray(x), np.asarray(y)).ravel()
    assert result.estimate == pytest.approx(float(np.median(differences)), abs=1e-12)
    if len(set(x)) == 1 and len(set(y)) == 1:  # R stops here ("all observations are tied")
        assert result.ci_low == result.ci_high == x[0] - y[0]
        return
    assert (result.ci_low, result.ci_high) == r_interval(x, y, level)
    assert result.ci_low <= result.estimate <= result.ci_high


# --- hand-checked ------------------------------------------------------------------------------
def test_four_against_four_separated_gives_the_whole_range() -> None:
    """x = 10, 20, 30, 40; y = 1, 2, 3, 4 (Kayenta's test, checked against R: [6, 39], 22.5).

    All 16 differences x − y are 6..9, 16..19, 26..29, 36..39; W = 16 (every pair
    x > y), σ = sqrt(16/12 · 9) = 3.464, z = (16 − 8 − 0.5) / 3.464 = 2.165.
    Lower limit: after one difference W(d) − 8 = 7 and (7 − 0.5)/3.464 = 1.876 is
    already below z₀.₉₇₅ = 1.960, so it is the smallest difference, 6. Upper: the
    same by symmetry, 39. Median of the differences: (19 + 26)/2 = 22.5.
    """
    result = rank_sum_test([10, 20, 30, 40], [1, 2, 3, 4], confidence_level=0.95)
    assert result.w == 16
    assert result.z == pytest.approx(7.5 / math.sqrt(12))
    assert result.p_value == pytest.approx(math.erfc(7.5 / math.sqrt(12) / math.sqrt(2)))
    assert (result.estimate, result.ci_low, result.ci_high) == (22.5, 6, 39)


def test_a_shift_of_ten_between_twenty_and_twenty_gives_an_interior_interval() -> None:
    """x = 1..20, y = 11..30: the differences are k − 10 for k = i − j, 20 − |k| times each.

    σ = sqrt(400/12 · 41) = 36.968 and z₀.₉₉ · σ = 2.32635 · 36.968 = 86.00.
    Lower: the smallest count c with 200 − c − 0.5 <= 86.00 is 114; the 114th
    smallest difference: 1 + 2 + … + 15 = 120 >= 114 > 105, so k = −19 + 14 = −5,
    a difference of −15. Upper: the largest c with 200 − c + 0.5 >= −86.00 is 286,
    the 287th smallest is the 114th largest: k = +5, difference −5.
    """
    result = rank_sum_test(list(range(1, 21)), list(range(11, 31)), confidence_level=0.98)
    assert (result.ci_low, result.estimate, result.ci_high) == (-15, -10, -5)
    assert result.w == brute_w(range(1, 21), range(11, 31))


def test_all_values_equal_is_no_evidence_of_a_shift() -> None:
    result = rank_sum_test([3.0, 3.0], [3.0, 3.0, 3.0])
    assert (result.w, result.z, result.p_value) == (3, 0, 1)
    assert (result.estimate, result.ci_low, result.ci_high) == (0, 0, 0)


def test_two_constant_samples_give_the_one_difference() -> None:
    result = rank_sum_test([5.0] * 4, [3.0] * 6)
    assert (result.estimate, result.ci_low, result.ci_high) == (2, 2, 2)
    assert result.w == 24


def test_one_value_each() -> None:
    # W − mn/2 = −0.5: the continuity correction brings z to 0 (R: the same)
    result = rank_sum_test([1.0], [2.0])
    assert (result.w, result.z, result.p_value, result.estimate) == (0, 0, 1, -1)


def test_tiny_scale_metrics_keep_their_interval() -> None:
    """R's uniroot tolerance (1e-4, absolute) would swamp differences of 1e-6; ours are exact."""
    x = [v * 1e-6 for v in range(1, 21)]
    y = [v * 1e-6 for v in range(11, 31)]
    result = rank_sum_test(x, y)
    assert result.ci_low == pytest.approx(-15e-6) and result.ci_high == pytest.approx(-5e-6)


# --- against the references --------------------------------------------------------------------
values = st.integers(min_value=-8, max_value=8).map(lambda v: v / 2)  # exact, many ties


@settings(max_examples=300, deadline=None)
@given(
    x=st.lists(values, min_size=1, max_size=25),
    y=st.lists(values, min_size=1, max_size=25),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.98, 0.99]),
)
def test_ties_and_unequal_sizes_match_scipy_and_r(
    x: list[float], y: list[float], level: float
) -> None:
    check_against_references(x, y, level)


@settings(max_examples=200, deadline=None)
@given(
    x=st.lists(
        st.integers(min_value=0, max_value=10**6).map(lambda v: v / 8), min_size=1, max_size=30
    ),
    y=st.lists(
        st.integers(min_value=0, max_value=10**6).map(lambda v: v / 8), min_size=1, max_size=30
    ),
)
def test_almost_continuous_samples_match_scipy_and_r(x: list[float], y: list[float]) -> None:
    check_against_references(x, y, 0.98)


@pytest.mark.parametrize("seed", range(30))
def test_the_limits_are_where_rs_uniroot_converges(seed: int) -> None:
    """With continuous data, Brent's method at R's tolerance lands within 1e-4 of our limits."""
    rng = random.Random(seed)
    shift = rng.choice([0.0, 0.3, 1.0, 3.0])
    x = [rng.gauss(shift, 1) for _ in range(rng.randint(3, 40))]
    y = [rng.gauss(0, 1) for _ in range(rng.randint(3, 40))]
    result = rank_sum_test(x, y, confidence_level=0.98)
    mumin, mumax = min(x) - max(y), max(x) - min(y)
    for limit, zq in (
        (result.ci_low, float(norm.isf(0.01))),
        (result.ci_high, float(norm.ppf(0.01))),
    ):
        if r_wdiff(x, y, mumin, zq, True) <= 0:
            expected = mumin
        elif r_wdiff(x, y, mumax, zq, True) >= 0:
            expected = mumax
        else:
            expected = brentq(lambda d, q=zq: r_wdiff(x, y, d, q, True), mumin, mumax, xtol=1e-4)
        assert limit == pytest.approx(expected, abs=2.5e-4)


@settings(max_examples=150, deadline=None)
@given(
    x=st.lists(values, min_size=1, max_size=20),
    y=st.lists(values, min_size=1, max_size=20),
)
def test_the_estimate_is_a_zero_of_rs_uncorrected_statistic(x: list[float], y: list[float]) -> None:
    """R's normal branch estimates the shift by the root of the uncorrected statistic."""
    if len(set(x)) == 1 and len(set(y)) == 1:
        return
    estimate = rank_sum_test(x, y).estimate
    distinct = sorted({a - b for a in x for b in y} | {estimate})
    step = min(b - a for a, b in pairwise(distinct)) / 2 if len(distinct) > 1 else 1.0
    assert (
        r_wdiff(x, y, estimate - step, 0.0, False)
        >= 0
        >= r_wdiff(x, y, estimate + step, 0.0, False)
    )


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([], [1.0], "x has no values"),
        ([1.0], [], "y has no values"),
        ([math.nan], [1.0], "non-finite"),
        ([1.0], [math.inf], "non-finite"),
    ],
)
def test_empty_or_non_finite_samples_are_bad_input(
    x: list[float], y: list[float], message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        rank_sum_test(x, y)


@pytest.mark.parametrize("level", [0, 1, 1.5, math.nan])
def test_a_confidence_level_outside_0_1_is_bad_input(level: float) -> None:
    with pytest.raises(BadInput, match="confidence level"):
        rank_sum_test([1.0], [2.0], confidence_level=level)
