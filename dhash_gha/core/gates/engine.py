"""The gate engine: each gate's value over its window, and its verdict. Pure: no I/O.

Semantics, defined here once (docs/gates.md explains them to operators):

* The window of a gate evaluated at ``now`` holds the samples with
  ``now - window_seconds < at <= now``. ``window_seconds`` 0 means the latest
  sample at or before ``now`` only.
* A sample *has data* for a gate when it carries the gate's input keys. Fewer
  samples with data in the window than ``min_samples`` is *no data*; so is a
  ratio with no attempts and a quantile of no observations.
* No data → the gate's ``no_data`` policy: ``inconclusive`` (verdict
  inconclusive), ``breach`` (verdict fail, "no data"), ``ignore`` (verdict pass).
* A gate fails only when its value is strictly greater than its threshold.
* ``consecutive_failures``: the longest run of failed checks (``health_ok`` 0)
  among the samples with health data in the window. A sample without health
  data neither breaks nor extends a run: only an observed success ends one.
* ``counter_ratio``: 100 × increase(numerator) / increase(denominator) over the
  window's samples carrying both counters; resets handled as Prometheus does,
  except that a drop of either counter (a restart of their process) resets both.
* ``histogram_quantile``: each bucket's increase over the window (resets
  handled per bucket; a bucket absent before a restart counts from 0 at the
  restart), then Prometheus's ``histogram_quantile``; seconds → ms.
* ``gauge``: the latest value (window 0) or the window's maximum.
* ``source: prometheus``: the value a PromQL query computed, sample key
  ``gate:<name>``, latest in the window.
* ``baseline: relative``: when the pre-deploy baseline sample already breaches
  the threshold, the gate fails only when the value exceeds the baseline value,
  i.e. when ``value > max(threshold, baseline_value)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from dhash_gha.core.gates.counters import increase, joint_increases, ratio_percent
from dhash_gha.core.gates.quantile import bucket_quantile
from dhash_gha.core.gates.sample import Sample
from dhash_gha.core.gates.spec import UNIT_SYMBOLS, GateSpec, format_duration, format_number

Status = Literal["pass", "fail", "inconclusive"]
SECONDS_TO_MS = 1000.0


@dataclass(frozen=True)
class GateVerdict:
    name: str
    status: Status
    value: float | None
    threshold: float
    unit: str
    action: str
    reason: str
    samples: int
    kind: str = ""
    limit: float = math.nan  # the value must stay at or below this (threshold or baseline)
    baseline: float | None = None
    no_data: bool = False

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    @property
    def triggers_rollback(self) -> bool:
        return self.status == "fail" and self.action == "rollback"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if math.isnan(self.limit):
            data["limit"] = self.threshold
        return data


@dataclass(frozen=True)
class Measurement:
    """A gate's value over its window; ``value`` None means no data, ``missing`` says why."""

    value: float | None
    samples: int
    missing: str = ""


# --- the window --------------------------------------------------------------------------
def in_time_order(samples: Sequence[Sample]) -> list[Sample]:
    """Samples oldest first; samples taken at the same moment keep their order."""
    return sorted(samples, key=lambda sample: sample.at)


def window_of(ordered: Sequence[Sample], now: float, window_seconds: float) -> list[Sample]:
    """The samples a gate with this window sees at ``now`` (``ordered`` oldest first)."""
    seen = [sample for sample in ordered if sample.at <= now]
    if window_seconds <= 0:
        return seen[-1:]
    cutoff = now - window_seconds
    return [sample for sample in seen if sample.at > cutoff]


# --- measuring ---------------------------------------------------------------------------
def reading(sample: Sample, key: str) -> float | None:
    """The sample's value for ``key``; a missing key or a NaN is no data."""
    value = sample.values.get(key)
    if value is None or math.isnan(value):
        return None
    return value


def bucket_readings(sample: Sample, histogram: str) -> dict[float, float]:
    """The sample's cumulative buckets of ``histogram``, without NaN bounds or counts."""
    return {
        bound: count
        for bound, count in sample.buckets(histogram).items()
        if not (math.isnan(bound) or math.isnan(count))
    }


def histogram_restarted(previous: dict[float, float], current: dict[float, float]) -> bool:
    """Whether a bucket present in both readings dropped: the process restarted between them.

    Every count after a restart is new, including those of buckets the previous
    reading did not have (a new bucket layout): those start from 0 at the restart
    rather than from their first reading, or they would show no increase at all.
    """
    return any(value < previous[bound] for bound, value in current.items() if bound in previous)


def is_failed_check(health_ok: float) -> bool:
    return health_ok <= 0.0


def longest_failure_run(checks: Sequence[float]) -> int:
    longest = run = 0
    for value in checks:
        run = run + 1 if is_failed_check(value) else 0
        longest = max(longest, run)
    return longest


def histogram_value_ms(quantile: float, per_bound_increase: dict[float, float]) -> float | None:
    """The quantile in ms from each bucket's increase; None when there were no observations."""
    value = bucket_quantile(quantile, per_bound_increase.items())
    if math.isnan(value):
        return None
    return value * SECONDS_TO_MS


def measure(gate: GateSpec, window: Sequence[Sample]) -> Measurement:
    """The gate's value over ``window`` (the samples inside it, oldest first)."""
    key = gate.value_key
    if key is not None:
        return _measure_key(gate, key, window)
    if gate.kind == "counter_ratio":
        return _measure_ratio(gate, window)
    return _measure_histogram(gate, window)


def _measure_key(gate: GateSpec, key: str, window: Sequence[Sample]) -> Measurement:
    """Single-key gates: a PromQL value (latest), failure runs, or a gauge (maximum)."""
    data = [value for value in (reading(sample, key) for sample in window) if value is not None]
    if len(data) < gate.min_samples:
        return _too_few(gate, len(data), window)
    if gate.source == "prometheus":
        return Measurement(data[-1], len(data))
    if gate.kind == "consecutive_failures":
        return Measurement(float(longest_failure_run(data)), len(data))
    return Measurement(max(data), len(data))


def _measure_ratio(gate: GateSpec, window: Sequence[Sample]) -> Measurement:
    assert gate.numerator is not None and gate.denominator is not None
    num, den = gate.numerator, gate.denominator
    pairs = [
        (n, d)
        for n, d in ((reading(s, num), reading(s, den)) for s in window)
        if n is not None and d is not None
    ]
    if len(pairs) < gate.min_samples:
        return _too_few(gate, len(pairs), window)
    # Both counters come from one process: a restart seen on either resets both.
    failed, attempted = joint_increases([[p[0] for p in pairs], [p[1] for p in pairs]])
    ratio = ratio_percent(failed, attempted)
    if ratio is None:
        return Measurement(None, len(pairs), f"no increase of {den} in the window")
    return Measurement(ratio, len(pairs))


def _measure_histogram(gate: GateSpec, window: Sequence[Sample]) -> Measurement:
    assert gate.metric is not None and gate.quantile is not None
    series: dict[float, list[float]] = {}  # upper bound → its counts in the window, in order
    count = 0
    previous: dict[float, float] | None = None
    for sample in window:
        buckets = bucket_readings(sample, gate.metric)
        if buckets:
            count += 1
            before = previous or {}
            restarted = histogram_restarted(before, buckets)
            for bound, value in buckets.items():
                values = series.setdefault(bound, [])
                if restarted and bound not in before:
                    values.append(0.0)  # a bucket new since the restart counted from 0
                values.append(value)
            previous = buckets
    if count < gate.min_samples:
        return _too_few(gate, count, window)
    increases = {bound: increase(values) for bound, values in series.items()}
    value_ms = histogram_value_ms(gate.quantile, increases)
    if value_ms is None:
        return Measurement(None, count, f"no observations of {gate.metric} in the window")
    return Measurement(value_ms, count)


def _too_few(gate: GateSpec, found: int, window: Sequence[Sample]) -> Measurement:
    if gate.window_seconds <= 0:
        where = "at the latest poll"
    else:
        where = f"in the last {format_duration(gate.window_seconds)}"
    why = f"{found} of {gate.min_samples} required sample(s) {where}"
    source_error = _latest_error(gate, window)
    if source_error:
        why += f"; {gate.source}: {source_error}"
    return Measurement(None, found, why)


def _latest_error(gate: GateSpec, window: Sequence[Sample]) -> str:
    for sample in reversed(window):
        message = sample.errors.get(gate.source)
        if message:
            return message
    return ""


def baseline_value(gate: GateSpec, baseline: Sample) -> float | None:
    """The gate's value in the pre-deploy baseline sample, or None when it cannot tell.

    One sample holds counters since the process started, so counter gates use
    those lifetime totals; a single check is a run of at most one failure.
    """
    key = gate.value_key
    if key is not None:
        raw = reading(baseline, key)
        if raw is None:
            return None
        if gate.source != "prometheus" and gate.kind == "consecutive_failures":
            return 1.0 if is_failed_check(raw) else 0.0
        return raw
    if gate.kind == "counter_ratio":
        assert gate.numerator is not None and gate.denominator is not None
        num = reading(baseline, gate.numerator)
        den = reading(baseline, gate.denominator)
        if num is None or den is None:
            return None
        return ratio_percent(num, den)
    assert gate.metric is not None and gate.quantile is not None
    return histogram_value_ms(gate.quantile, bucket_readings(baseline, gate.metric))


# --- judging -----------------------------------------------------------------------------
def limit_for(gate: GateSpec, baseline: float | None) -> float:
    """The highest value that passes: the threshold, or a breaching baseline (relative)."""
    if gate.relative_to_baseline and baseline is not None and baseline > gate.threshold:
        return baseline
    return gate.threshold


def decide(gate: GateSpec, value: float | None, limit: float) -> Status:
    """pass / fail / inconclusive for a value (None: no data) against ``limit``."""
    if value is None:
        if gate.no_data == "breach":
            return "fail"
        return "pass" if gate.no_data == "ignore" else "inconclusive"
    return "fail" if value > limit else "pass"


def judge(gate: GateSpec, measured: Measurement, baseline: float | None = None) -> GateVerdict:
    """The verdict for a measured value (``baseline``: the gate's pre-deploy value)."""
    unit = UNIT_SYMBOLS.get(gate.unit, gate.unit)
    common: dict[str, Any] = {
        "name": gate.name,
        "threshold": gate.threshold,
        "unit": gate.unit,
        "action": gate.action,
        "samples": measured.samples,
        "kind": gate.kind,
        "baseline": baseline,
    }
    limit = limit_for(gate, baseline)
    status = decide(gate, measured.value, limit)
    if measured.value is None:
        reason = {
            "fail": f"no data ({measured.missing}); no_data policy is breach",
            "pass": f"no data ignored ({measured.missing})",
        }.get(status, f"no data ({measured.missing})")
        return GateVerdict(
            status=status, value=None, reason=reason, limit=limit, no_data=True, **common
        )
    against = f"{format_number(gate.threshold)} {unit}"
    if limit != gate.threshold:
        against = (
            f"the pre-deploy baseline {format_number(limit)} {unit} "
            f"(already above {format_number(gate.threshold)} {unit})"
        )
    value = measured.value
    comparison = ">" if status == "fail" else "<="
    shown = format_number(value)
    if shown == format_number(limit) and value != limit:
        shown = f"{value:.15g}"  # just past the boundary: show the digits that decide it
    reason = f"{shown} {unit} {comparison} {against}"
    if gate.window_seconds > 0:
        reason += f" over {format_duration(gate.window_seconds)}"
    return GateVerdict(status=status, value=value, reason=reason, limit=limit, **common)


def evaluate_gate(
    gate: GateSpec, ordered: Sequence[Sample], *, now: float, baseline: Sample | None = None
) -> GateVerdict:
    """One gate at ``now`` over ``ordered`` samples (oldest first)."""
    measured = measure(gate, window_of(ordered, now, gate.window_seconds))
    base = baseline_value(gate, baseline) if baseline is not None else None
    return judge(gate, measured, base)


def evaluate_gates(
    gates: Sequence[GateSpec],
    samples: Sequence[Sample],
    *,
    now: float,
    baseline: Sample | None = None,
) -> list[GateVerdict]:
    """Every gate's verdict at ``now`` (seconds, on the same scale as ``Sample.at``)."""
    ordered = in_time_order(samples)
    return [evaluate_gate(gate, ordered, now=now, baseline=baseline) for gate in gates]
