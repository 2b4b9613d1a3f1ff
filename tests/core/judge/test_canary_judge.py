"""The Kayenta-style metric classifier and the judgment over several metrics."""

from __future__ import annotations

import math

import pytest

from dhash_gha.core.judge.rank_sum import (
    JudgeSettings,
    MetricSpec,
    classify_metric,
    judge,
)
from dhash_gha.errors import BadInput

BASELINE = [float(v) for v in range(1, 21)]  # 1..20


def shifted(by: float) -> list[float]:
    return [v + by for v in BASELINE]


# --- the tolerance band: ±0.25 × |Hodges–Lehmann estimate| -----------------------------------------
def test_a_shift_whose_interval_clears_the_band_is_high() -> None:
    """Canary = baseline + 7: the 98 % interval of the shift is [2, 12] (the differences are
    i − j + 7; see the rank-sum test's interior-interval case), the estimate 7, the band
    0.25 × 7 = 1.75; 2 > 1.75 → high. Mean ratio 17.5 / 10.5 = 1.67 > 1."""
    verdict = classify_metric(MetricSpec("latency"), shifted(7), BASELINE)
    assert verdict.classification == "high"
    assert verdict.test is not None
    assert (verdict.test.ci_low, verdict.test.estimate, verdict.test.ci_high) == (2, 7, 12)
    assert verdict.band == 1.75
    assert verdict.mean_ratio == pytest.approx(17.5 / 10.5)
    assert "high" in verdict.reason and "98 %" in verdict.reason


def test_a_significant_shift_inside_the_band_passes() -> None:
    """Canary = baseline + 6: the interval [1, 11] excludes 0, but 1 <= 0.25 × 6 = 1.5:
    Kayenta's band asks for an interval clearly off zero relative to the shift itself."""
    verdict = classify_metric(MetricSpec("latency"), shifted(6), BASELINE)
    assert verdict.classification == "pass"
    assert verdict.test is not None and verdict.test.ci_low == 1
    assert "no clear shift" in verdict.reason


def test_a_lower_canary_is_low_or_allowed_by_the_direction() -> None:
    lower = shifted(-7)
    assert classify_metric(MetricSpec("rps"), lower, BASELINE).classification == "low"
    allowed = classify_metric(MetricSpec("latency", direction="increase"), lower, BASELINE)
    assert allowed.classification == "pass"
    assert "allowed (direction increase)" in allowed.reason
    higher = classify_metric(MetricSpec("rps", direction="decrease"), shifted(7), BASELINE)
    assert higher.classification == "pass"


def test_the_effect_size_floor_must_be_exceeded() -> None:
    ratio = 17.5 / 10.5
    below = classify_metric(MetricSpec("latency", allowed_increase=1.7), shifted(7), BASELINE)
    assert below.classification == "pass"
    assert "does not exceed the allowed 1.7" in below.reason
    exactly = classify_metric(MetricSpec("latency", allowed_increase=ratio), shifted(7), BASELINE)
    assert exactly.classification == "pass"  # not exceeded: equal
    above = classify_metric(MetricSpec("latency", allowed_increase=1.6), shifted(7), BASELINE)
    assert above.classification == "high"
    low = classify_metric(MetricSpec("rps", allowed_decrease=0.2), shifted(-7), BASELINE)
    assert low.classification == "pass"  # 3.5 / 10.5 = 0.33 is not below 0.2


def test_an_undefined_mean_ratio_does_not_stop_a_classification() -> None:
    canary = [v - 30 for v in BASELINE]  # negative mean: the ratio is undefined
    verdict = classify_metric(MetricSpec("delta", allowed_decrease=0.5), canary, BASELINE)
    assert verdict.mean_ratio is None
    assert verdict.classification == "low"
    assert "mean ratio undefined" in verdict.reason


def test_a_tolerance_of_zero_only_asks_the_interval_to_exclude_zero() -> None:
    settings = JudgeSettings(tolerance=0)
    assert classify_metric(MetricSpec("m"), shifted(6), BASELINE, settings).classification == "high"


# --- no data, identical data, errors -------------------------------------------------------------
def test_an_empty_side_is_nodata_and_nan_values_are_dropped() -> None:
    assert classify_metric(MetricSpec("m"), [], BASELINE).classification == "nodata"
    only_nan = classify_metric(MetricSpec("m"), BASELINE, [math.nan, math.nan])
    assert only_nan.classification == "nodata" and "baseline" in only_nan.reason
    with_nan = classify_metric(MetricSpec("m"), [*shifted(7), math.nan], BASELINE)
    assert with_nan.classification == "high" and with_nan.canary.count == 20


def test_identical_or_single_valued_data_passes() -> None:
    same = classify_metric(MetricSpec("m"), list(reversed(BASELINE)), BASELINE)
    assert same.classification == "pass" and "identical" in same.reason
    assert classify_metric(MetricSpec("m"), [4.0, 4.0], [4.0]).classification == "pass"


def test_two_constant_samples_classify_on_their_one_difference() -> None:
    # Kayenta adds Gaussian noise here; the limit is an interval of the one difference.
    assert classify_metric(MetricSpec("m"), [5.0] * 5, [3.0] * 5).classification == "high"


def test_an_infinite_value_is_an_error() -> None:
    verdict = classify_metric(MetricSpec("m"), [1.0, math.inf], BASELINE)
    assert verdict.classification == "error" and verdict.canary.mean is None


# --- the judgment ----------------------------------------------------------------------------
def series(names: list[str], data: list[float]) -> dict[str, list[float]]:
    return dict.fromkeys(names, data)


def test_every_metric_passing_passes_with_score_100() -> None:
    names = ["a", "b", "c"]
    result = judge(
        [MetricSpec(n) for n in names], series(names, shifted(1)), series(names, BASELINE)
    )
    assert result.status == "pass" and result.score == 100
    assert "3 of 3 judged metrics pass" in result.reason


def test_the_score_is_the_pass_share_and_below_the_pass_score_fails() -> None:
    specs = [MetricSpec("a"), MetricSpec("b"), MetricSpec("c")]
    canary = {"a": shifted(1), "b": shifted(1), "c": shifted(9)}
    baseline = series(["a", "b", "c"], BASELINE)
    failed = judge(specs, canary, baseline)
    assert failed.status == "fail"
    assert failed.score == pytest.approx(200 / 3)
    assert "c: high" in failed.reason
    lenient = judge(specs, canary, baseline, JudgeSettings(pass_score=60))
    assert lenient.status == "pass"


def test_a_critical_metric_failing_fails_the_judgment_whatever_the_score() -> None:
    names = [f"m{i}" for i in range(20)]
    specs = [MetricSpec(n) for n in names] + [MetricSpec("errors", critical=True)]
    canary = series(names, shifted(1)) | {"errors": shifted(9)}
    baseline = series([*names, "errors"], BASELINE)
    result = judge(specs, canary, baseline)
    assert result.score == pytest.approx(100 * 20 / 21)  # above 95 …
    assert result.status == "fail"  # … but the critical metric is high
    assert result.reason.startswith("a critical metric did not pass: errors: high")


def test_a_critical_metric_without_data_fails_too() -> None:
    specs = [MetricSpec("a"), MetricSpec("b"), MetricSpec("c"), MetricSpec("errors", critical=True)]
    data = series(["a", "b", "c"], BASELINE)
    result = judge(specs, data, data)
    assert (
        result.status == "fail"
        and "a critical metric did not pass: errors: no data" in result.reason
    )


def test_half_the_metrics_without_data_fails_the_judgment() -> None:
    specs = [MetricSpec(n) for n in "abcd"]
    two = series(["a", "b"], BASELINE)
    result = judge(specs, two, two)
    assert result.status == "fail"
    assert "2 of 4 metrics have no data" in result.reason
    three = series(["a", "b", "c"], BASELINE)
    assert judge(specs, three, three).status == "pass"  # 1 of 4 is under half


def test_errors_count_with_no_data() -> None:
    specs = [MetricSpec("a"), MetricSpec("b")]
    canary = {"a": BASELINE, "b": [math.inf]}
    assert judge(specs, canary, series(["a", "b"], BASELINE)).status == "fail"


def test_bad_judge_input() -> None:
    with pytest.raises(BadInput, match="no metrics"):
        judge([], {}, {})
    with pytest.raises(BadInput, match="repeated: a"):
        judge([MetricSpec("a"), MetricSpec("a")], {}, {})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "empty name"),
        ({"name": "m", "direction": "up"}, "direction"),
        ({"name": "m", "allowed_increase": 0.9}, "allowed_increase"),
        ({"name": "m", "allowed_increase": math.inf}, "allowed_increase"),
        ({"name": "m", "allowed_decrease": 0}, "allowed_decrease"),
        ({"name": "m", "allowed_decrease": 1.2}, "allowed_decrease"),
    ],
)
def test_bad_metric_specs(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        MetricSpec(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence_level": 1}, "confidence level"),
        ({"tolerance": -0.1}, "tolerance"),
        ({"pass_score": 101}, "pass score"),
    ],
)
def test_bad_judge_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        JudgeSettings(**kwargs)
