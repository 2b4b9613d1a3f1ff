"""Canary against baseline: the Wilcoxon rank-sum test and a Kayenta-style judge. Pure: no I/O.

**The test** is R's ``wilcox.test(x, y, conf.int = TRUE, exact = FALSE, correct = TRUE)``,
two-sided, with x the canary and y the baseline:

* ``W`` = sum of the ranks of x in the pooled sample (ties get their average
  rank) − m(m + 1)/2; it equals the Mann-Whitney U of x (scipy's statistic).
* ``z`` = (W − mn/2 − ½·sign(W − mn/2)) ÷ σ with the tie-corrected
  σ² = mn/12 · ((N + 1) − Σ(t³ − t) ÷ (N(N − 1))), t the size of each group of
  tied values, N = m + n; p = 2·min(Φ(z), 1 − Φ(z)).
* The **estimate** of the shift x − y is the Hodges–Lehmann estimator, the
  median of the mn pairwise differences xᵢ − yⱼ (R's exact branch uses it; its
  normal branch returns a zero of the uncorrected statistic found by
  ``uniroot(tol = 1e-4)``, which is that median when mn is odd and lies between
  the two middle differences when mn is even).
* The **confidence interval** is where R's root-finding lands. R solves, in d,
  (W(d) − mn/2 − ½·sign(…)) ÷ σ(d) = ±z₁₋α/₂ with W(d) the statistic of x − d
  against y. That function of d is a step function: it only changes where d
  crosses a pairwise difference, and between differences σ(d) is the σ of the
  within-sample ties. So R's root is a pairwise difference, and which one
  follows from counts: the lower limit is the c-th smallest difference for the
  smallest count c with (mn/2 − c − ½·sign(…)) ÷ σ ≤ z, the upper limit the
  (c + 1)-th for the largest c with (mn/2 − c − ½·sign(…)) ÷ σ ≥ −z; both
  clamp to [min, max] of the differences, as R's ``root`` does. R returns
  those points to within uniroot's absolute tolerance 1e-4; we return them
  exactly, which also keeps metrics whose differences are below 1e-4 (seconds
  of latency) meaningful where R's interval is noise.
* Where R gives up: all values of both samples equal → p = 1 and estimate and
  interval 0 (R: p NaN); each sample constant, different from the other → the
  interval is the one difference (R stops with "all observations are tied";
  Kayenta adds Gaussian noise, whose limit this is).

**The classifier** follows Kayenta's ``MannWhitneyClassifier`` (spinnaker/kayenta,
kayenta-judge), as ``NetflixACAJudge`` configures it (confidence 0.98, tolerance 0.25):

* NaN values are dropped (Kayenta's default "remove"); no values left on either
  side → ``nodata``; an infinite value → ``error``.
* Identical samples, or one distinct value over both → ``pass``.
* The tolerance band is ±tolerance × |estimate| — Kayenta scales it by the
  Hodges–Lehmann estimate, not by the baseline's mean. ``high`` when the
  direction allows an increase and the interval's lower limit is above
  +tolerance × |estimate|; ``low`` when it allows a decrease and the upper limit
  is below −tolerance × |estimate|. The band only asks that the interval sit
  clearly off zero; how large a change matters is the effect-size floor's job.
* Effect-size floor: the ratio of means canary ÷ baseline must be strictly
  above ``allowed_increase`` for ``high`` and strictly below ``allowed_decrease``
  for ``low`` (Kayenta: >= and <=; defaults 1.0). It needs both means > 0
  (Kayenta: both ≠ 0); otherwise the ratio is undefined and not applied.

**The judgment** follows Kayenta's ``WeightedSumScorer`` with one group:

* a ``critical`` metric classified anything but ``pass`` (nodata and error
  too, as in Kayenta) fails the judgment;
* when half or more of the metrics are ``nodata`` or ``error``, it fails
  (Kayenta counts nodata only; an error cannot vouch for the canary either);
* otherwise score = 100 × pass ÷ (pass + high + low), and the judgment passes
  when the score is at least ``pass_score`` (default 95, Spinnaker's default:
  with fewer than 20 metrics, every judged metric must pass).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist, fmean, median
from typing import Literal

from dhash_gha.core.gates.spec import format_number
from dhash_gha.errors import BadInput

DEFAULT_CONFIDENCE_LEVEL = 0.98  # NetflixACAJudge's mannWhitney classifier
DEFAULT_TOLERANCE = 0.25
DEFAULT_PASS_SCORE = 95.0
NODATA_FAIL_SHARE = 0.5  # this share or more of metrics without data fails the judgment

Direction = Literal["increase", "decrease", "either"]
Classification = Literal["pass", "high", "low", "nodata", "error"]
DIRECTIONS: tuple[Direction, ...] = ("increase", "decrease", "either")


# --- the test --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankSumResult:
    """R's two-sided ``wilcox.test`` of x against y, normal approximation, both corrections."""

    w: float
    z: float
    p_value: float
    estimate: float  # Hodges–Lehmann shift x − y
    ci_low: float
    ci_high: float
    confidence_level: float
    x_count: int
    y_count: int


def rank_sum_test(
    x: Sequence[float], y: Sequence[float], *, confidence_level: float = DEFAULT_CONFIDENCE_LEVEL
) -> RankSumResult:
    """The rank-sum test of x (canary) against y (baseline); BadInput for empty or non-finite."""
    xs, ys = _sample(x, "x"), _sample(y, "y")
    if not (_is_number(confidence_level) and 0 < confidence_level < 1):
        raise BadInput(
            f"rank-sum test: confidence level {confidence_level!r} is not between 0 and 1",
            tip="give it as a ratio, e.g. 0.98",
        )
    m, n = len(xs), len(ys)
    pairs = m * n
    ranks = _average_ranks(xs + ys)
    w = math.fsum(ranks[:m]) - m * (m + 1) / 2
    sigma = _sigma(m, n, _tie_term(xs + ys))
    z = _corrected(w - pairs / 2) / sigma if sigma > 0 else 0.0
    p_value = math.erfc(abs(z) / math.sqrt(2))  # 2·min(Φ(z), 1 − Φ(z)), precise in the tails

    differences = sorted(xi - yj for xi in xs for yj in ys)
    sigma_between = _sigma(m, n, _tie_term(xs) + _tie_term(ys))
    quantile = NormalDist().inv_cdf(1 - (1 - confidence_level) / 2)

    def statistic(count: int) -> float:
        """R's standardised statistic at a shift with ``count`` differences at or below it."""
        return _corrected(pairs / 2 - count) / sigma_between

    lower = _first(1, pairs, lambda c: statistic(c) - quantile <= 0)
    upper = _first(0, pairs - 1, lambda c: statistic(c) + quantile < 0) - 1
    return RankSumResult(
        w=w,
        z=z,
        p_value=min(1.0, p_value),
        estimate=median(differences),
        ci_low=differences[lower - 1],
        ci_high=differences[min(upper, pairs - 1)],
        confidence_level=confidence_level,
        x_count=m,
        y_count=n,
    )


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _sample(values: Sequence[float], label: str) -> list[float]:
    found = [float(v) for v in values]
    if not found:
        raise BadInput(f"rank-sum test: {label} has no values", tip="give at least one value")
    bad = [v for v in found if not math.isfinite(v)]
    if bad:
        raise BadInput(
            f"rank-sum test: {label} has non-finite values ({bad[0]!r})",
            tip="drop NaN values first (classify_metric does); infinite values cannot be ranked",
        )
    return found


def _average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, a group of equal values sharing the mean of its positions."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _tie_term(values: Sequence[float]) -> int:
    """Σ (t³ − t) over the groups of equal values."""
    return sum(t**3 - t for t in Counter(values).values())


def _sigma(m: int, n: int, ties: int) -> float:
    total = m + n
    variance = Fraction(m * n, 12) * ((total + 1) - Fraction(ties, total * (total - 1)))
    return math.sqrt(variance) if variance > 0 else 0.0


def _corrected(deviation: float) -> float:
    """The continuity correction: half a step towards zero."""
    if deviation > 0:
        return deviation - 0.5
    if deviation < 0:
        return deviation + 0.5
    return 0.0


def _first(lo: int, hi: int, holds: Callable[[int], bool]) -> int:
    """The smallest integer in [lo, hi] where a monotone ``holds`` is true; hi + 1 if none."""
    end = hi + 1
    while lo < end:
        middle = (lo + end) // 2
        if holds(middle):
            end = middle
        else:
            lo = middle + 1
    return lo


# --- the classifier --------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricSpec:
    """How one metric is judged; the effect-size floors are ratios of means canary ÷ baseline."""

    name: str
    direction: Direction = "either"
    critical: bool = False
    allowed_increase: float = 1.0
    allowed_decrease: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise BadInput("canary metric: empty name", tip="give every metric a name")
        if self.direction not in DIRECTIONS:
            raise BadInput(
                f"canary metric '{self.name}': direction {self.direction!r} is not one of "
                f"{', '.join(DIRECTIONS)}",
                tip='use "increase" when only a rise is bad (latency, errors)',
            )
        if not (_is_number(self.allowed_increase) and self.allowed_increase >= 1):
            raise BadInput(
                f"canary metric '{self.name}': allowed_increase {self.allowed_increase!r} "
                "is not a ratio >= 1",
                tip="e.g. 1.1 tolerates a canary mean up to 10 % above the baseline's",
            )
        if not (_is_number(self.allowed_decrease) and 0 < self.allowed_decrease <= 1):
            raise BadInput(
                f"canary metric '{self.name}': allowed_decrease {self.allowed_decrease!r} "
                "is not a ratio in (0, 1]",
                tip="e.g. 0.9 tolerates a canary mean down to 10 % below the baseline's",
            )


@dataclass(frozen=True)
class JudgeSettings:
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL
    tolerance: float = DEFAULT_TOLERANCE
    pass_score: float = DEFAULT_PASS_SCORE

    def __post_init__(self) -> None:
        if not (_is_number(self.confidence_level) and 0 < self.confidence_level < 1):
            raise BadInput(
                f"canary judge: confidence level {self.confidence_level!r} is not between 0 and 1",
                tip="Kayenta uses 0.98",
            )
        if not (_is_number(self.tolerance) and self.tolerance >= 0):
            raise BadInput(
                f"canary judge: tolerance {self.tolerance!r} is not a number >= 0",
                tip="Kayenta uses 0.25",
            )
        if not (_is_number(self.pass_score) and 0 <= self.pass_score <= 100):
            raise BadInput(
                f"canary judge: pass score {self.pass_score!r} is not between 0 and 100",
                tip="Spinnaker's default is 95",
            )


@dataclass(frozen=True)
class SampleSummary:
    count: int
    mean: float | None


@dataclass(frozen=True)
class MetricVerdict:
    name: str
    classification: Classification
    reason: str
    critical: bool  # the metric is marked critical
    canary: SampleSummary
    baseline: SampleSummary
    mean_ratio: float | None = None  # canary ÷ baseline means; None when undefined
    test: RankSumResult | None = None
    band: float | None = None  # tolerance × |estimate|

    @property
    def judged(self) -> bool:
        return self.classification in ("pass", "high", "low")


def classify_metric(
    spec: MetricSpec,
    canary: Sequence[float],
    baseline: Sequence[float],
    settings: JudgeSettings | None = None,
) -> MetricVerdict:
    """pass / high / low / nodata / error for one metric, with the statistics behind it."""
    settings = settings or JudgeSettings()
    exp = [float(v) for v in canary if not math.isnan(v)]
    ctl = [float(v) for v in baseline if not math.isnan(v)]

    def verdict(
        classification: Classification,
        reason: str,
        ratio: float | None = None,
        test: RankSumResult | None = None,
        band: float | None = None,
    ) -> MetricVerdict:
        return MetricVerdict(
            spec.name,
            classification,
            f"{spec.name}: {reason}",
            spec.critical,
            _summary(exp),
            _summary(ctl),
            ratio,
            test,
            band,
        )

    if not exp or not ctl:
        return verdict("nodata", f"no data for the {'canary' if not exp else 'baseline'}")
    if not all(math.isfinite(v) for v in exp + ctl):
        return verdict("error", "an infinite value cannot be ranked")
    ratio = _mean_ratio(exp, ctl)
    if sorted(exp) == sorted(ctl) or len(set(exp + ctl)) == 1:
        return verdict("pass", "the canary and baseline data are identical", ratio)
    test = rank_sum_test(exp, ctl, confidence_level=settings.confidence_level)
    band = settings.tolerance * abs(test.estimate)
    classification, reason = _classify(spec, test, band, ratio, settings)
    return verdict(classification, reason, ratio, test, band)


def _summary(values: Sequence[float]) -> SampleSummary:
    finite = [v for v in values if math.isfinite(v)]
    return SampleSummary(
        len(values), fmean(finite) if finite and len(finite) == len(values) else None
    )


def _mean_ratio(canary: Sequence[float], baseline: Sequence[float]) -> float | None:
    canary_mean, baseline_mean = fmean(canary), fmean(baseline)
    if canary_mean > 0 and baseline_mean > 0:
        return canary_mean / baseline_mean
    return None


def _classify(
    spec: MetricSpec,
    test: RankSumResult,
    band: float,
    ratio: float | None,
    settings: JudgeSettings,
) -> tuple[Classification, str]:
    level = f"{format_number(settings.confidence_level * 100)} %"
    interval = f"{level} interval of the shift [{_num(test.ci_low)}, {_num(test.ci_high)}]"
    band_text = (
        f"{_num(band)} ({format_number(settings.tolerance)} × |estimate {_num(test.estimate)}|)"
    )
    shown_ratio = "undefined" if ratio is None else _num(ratio)
    if test.ci_low > band:
        if spec.direction == "decrease":
            return (
                "pass",
                f"higher than the baseline ({interval}), which is allowed (direction decrease)",
            )
        if ratio is not None and not ratio > spec.allowed_increase:
            return "pass", (
                f"higher than the baseline ({interval} above {band_text}) but the mean ratio "
                f"{shown_ratio} does not exceed the allowed {_num(spec.allowed_increase)}"
            )
        return "high", (
            f"high: the {interval} lies above {band_text}; mean ratio {shown_ratio}"
            + ("" if ratio is None else f" > {_num(spec.allowed_increase)}")
        )
    if test.ci_high < -band:
        if spec.direction == "increase":
            return (
                "pass",
                f"lower than the baseline ({interval}), which is allowed (direction increase)",
            )
        if ratio is not None and not ratio < spec.allowed_decrease:
            return "pass", (
                f"lower than the baseline ({interval} below −{band_text}) but the mean ratio "
                f"{shown_ratio} is not below the allowed {_num(spec.allowed_decrease)}"
            )
        return "low", (
            f"low: the {interval} lies below −{band_text}; mean ratio {shown_ratio}"
            + ("" if ratio is None else f" < {_num(spec.allowed_decrease)}")
        )
    return "pass", f"no clear shift: the {interval} reaches into ±{band_text}"


def _num(value: float) -> str:
    return f"{value:.6g}"


# --- the judgment ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Judgment:
    status: Literal["pass", "fail"]
    score: float  # 100 × pass ÷ judged metrics (0 when none was judged)
    reason: str
    metrics: tuple[MetricVerdict, ...]


def judge(
    specs: Sequence[MetricSpec],
    canary: Mapping[str, Sequence[float]],
    baseline: Mapping[str, Sequence[float]],
    settings: JudgeSettings | None = None,
) -> Judgment:
    """Every metric's classification and the overall pass/fail (a missing series is no data)."""
    settings = settings or JudgeSettings()
    if not specs:
        raise BadInput("canary judge: no metrics to judge", tip="configure at least one metric")
    names = [spec.name for spec in specs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise BadInput(
            f"canary judge: metric names repeated: {', '.join(repeated)}",
            tip="give every metric a distinct name",
        )
    verdicts = tuple(
        classify_metric(spec, canary.get(spec.name, ()), baseline.get(spec.name, ()), settings)
        for spec in specs
    )
    judged = [v for v in verdicts if v.judged]
    passed = sum(1 for v in judged if v.classification == "pass")
    score = 100.0 * passed / len(judged) if judged else 0.0
    tally = (
        f"score {format_number(round(score, 2))} ({passed} of {len(judged)} judged metrics pass)"
    )

    critical = [v for v in verdicts if v.critical and v.classification != "pass"]
    if critical:
        first = critical[0]
        reason = f"a critical metric did not pass: {first.reason}"
        return Judgment("fail", score, reason, verdicts)
    missing = [v for v in verdicts if not v.judged]
    if Fraction(len(missing), len(verdicts)) >= Fraction(NODATA_FAIL_SHARE):
        reason = (
            f"{len(missing)} of {len(verdicts)} metrics have no data or could not be judged "
            f"({', '.join(v.name for v in missing)}): half or more cannot vouch for the canary"
        )
        return Judgment("fail", score, reason, verdicts)
    failing = [v for v in judged if v.classification != "pass"]
    if score >= settings.pass_score:
        return Judgment("pass", score, f"{tally} >= {format_number(settings.pass_score)}", verdicts)
    reason = f"{tally} < {format_number(settings.pass_score)}: " + "; ".join(
        v.reason for v in failing
    )
    return Judgment("fail", score, reason, verdicts)
