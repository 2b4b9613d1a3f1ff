"""The engine against a brute-force reference, and the incremental evaluator against the engine.

The reference below is written independently of the engine, as plain loops:
the window by filtering every sample, counter increase as a sum of deltas
(a drop adds the new value), runs by walking the checks, and Prometheus's
histogram_quantile by a linear scan over explicitly built buckets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dhash_gha.core.gates.engine import evaluate_gates
from dhash_gha.core.gates.incremental import IncrementalEvaluator
from dhash_gha.core.gates.sample import Sample, bucket_key, gate_key
from dhash_gha.core.gates.spec import GateSpec

HIST = "h_seconds"
NUM, DEN = "fails_total", "attempts_total"
BOUNDS = (0.1, 0.5, 1.0, 2.5, math.inf)


# --- the reference ----------------------------------------------------------------------------
def ref_window(samples: Sequence[Sample], now: float, window: float) -> list[Sample]:
    ordered = sorted(samples, key=lambda s: s.at)
    if window <= 0:
        latest = None
        for s in ordered:
            if s.at <= now:
                latest = s
        return [] if latest is None else [latest]
    return [s for s in ordered if now - window < s.at <= now]


def ref_get(sample: Sample, key: str) -> float | None:
    value = sample.values.get(key)
    return None if value is None or value != value else value


def ref_increase(values: list[float]) -> float:
    total = 0.0
    for i in range(1, len(values)):
        if values[i] >= values[i - 1]:
            total += values[i] - values[i - 1]
        else:
            total += values[i]
    return total


def ref_quantile(q: float, buckets: dict[float, float]) -> float:
    if math.inf not in buckets or len(buckets) < 2:
        return math.nan
    bounds = sorted(buckets)
    counts = []
    highest = -math.inf
    for b in bounds:
        highest = max(highest, buckets[b])
        counts.append(highest)
    total = counts[-1]
    if total == 0:
        return math.nan
    rank = q * total
    for i, b in enumerate(bounds):
        if counts[i] >= rank:
            if math.isinf(b):
                return bounds[-2]
            if i == 0:
                return b if b <= 0 else b * rank / counts[0]
            return bounds[i - 1] + (b - bounds[i - 1]) * (rank - counts[i - 1]) / (
                counts[i] - counts[i - 1]
            )
    return bounds[-2]


def ref_value(gate: GateSpec, window: list[Sample]) -> tuple[float | None, int]:
    if gate.source == "prometheus":
        data = [v for s in window if (v := ref_get(s, gate_key(gate.name))) is not None]
        return (data[-1] if len(data) >= gate.min_samples else None), len(data)
    if gate.kind == "consecutive_failures":
        data = [v for s in window if (v := ref_get(s, "health_ok")) is not None]
        longest = run = 0
        for v in data:
            run = run + 1 if v <= 0 else 0
            longest = max(longest, run)
        return (float(longest) if len(data) >= gate.min_samples else None), len(data)
    if gate.kind == "gauge":
        data = [v for s in window if (v := ref_get(s, "queue_items")) is not None]
        return (max(data) if len(data) >= gate.min_samples else None), len(data)
    if gate.kind == "counter_ratio":
        nums, dens = [], []
        for s in window:
            n, d = ref_get(s, NUM), ref_get(s, DEN)
            if n is not None and d is not None:
                nums.append(n)
                dens.append(d)
        if len(nums) < gate.min_samples:
            return None, len(nums)
        # One process: a drop of either counter is a restart of both.
        num_total = den_total = 0.0
        for i in range(1, len(nums)):
            if nums[i] < nums[i - 1] or dens[i] < dens[i - 1]:
                num_total += nums[i]
                den_total += dens[i]
            else:
                num_total += nums[i] - nums[i - 1]
                den_total += dens[i] - dens[i - 1]
        return (100.0 * num_total / den_total if den_total > 0 else None), len(nums)
    series: dict[float, list[float]] = {}
    count = 0
    before: dict[float, float] = {}  # the previous sample's buckets
    for s in window:
        now_buckets = {b: v for b in BOUNDS if (v := ref_get(s, bucket_key(HIST, b))) is not None}
        if not now_buckets:
            continue
        count += 1
        restart = any(v < before[b] for b, v in now_buckets.items() if b in before)
        for b, v in now_buckets.items():
            if restart and b not in before:
                series.setdefault(b, []).append(0.0)  # new since the restart: from 0
            series.setdefault(b, []).append(v)
        before = now_buckets
    if count < gate.min_samples:
        return None, count
    value = ref_quantile(0.95, {b: ref_increase(vs) for b, vs in series.items()})
    return (None if math.isnan(value) else value * 1000.0), count


def ref_status(gate: GateSpec, value: float | None) -> str:
    if value is None:
        return {"breach": "fail", "ignore": "pass"}.get(gate.no_data, "inconclusive")
    return "fail" if value > gate.threshold else "pass"


# --- strategies ---------------------------------------------------------------------------------
def counter_series(draw: st.DrawFn, n: int) -> list[float]:
    value, out = 0.0, []
    for _ in range(n):
        if draw(st.integers(0, 9)) == 0:
            value = float(draw(st.integers(0, 5)))  # a reset
        else:
            value += draw(st.integers(0, 20))
        out.append(value)
    return out


@st.composite
def sample_series(draw: st.DrawFn) -> list[Sample]:
    n = draw(st.integers(0, 30))
    times, t = [], 0.0
    for _ in range(n):
        t += draw(st.sampled_from([0.0, 10.0, 30.0, 30.0, 30.0, 45.5, 120.0]))
        times.append(t)
    nums, dens = counter_series(draw, n), counter_series(draw, n)
    buckets = {b: counter_series(draw, n) for b in BOUNDS}
    samples = []
    for i, at in enumerate(times):
        values: dict[str, float] = {}
        if draw(st.integers(0, 5)):
            values["health_ok"] = float(draw(st.sampled_from([0, 0, 1])))
        if draw(st.integers(0, 5)):
            values["queue_items"] = float(draw(st.integers(0, 2000)))
        if draw(st.integers(0, 5)):
            values[NUM] = nums[i]
            values[DEN] = dens[i] + nums[i]
        elif draw(st.integers(0, 3)) == 0:
            values[NUM] = nums[i]  # numerator alone: no data for the ratio
        if draw(st.integers(0, 5)):
            running = 0.0
            for b in BOUNDS:
                if draw(st.integers(0, 9)):
                    running += buckets[b][i]
                    values[bucket_key(HIST, b)] = running
        if draw(st.integers(0, 3)):
            values[gate_key("g")] = float(draw(st.integers(0, 100)))
        errors = {"metrics": "down"} if draw(st.integers(0, 6)) == 0 else {}
        samples.append(Sample(at=at, values=values, errors=errors))
    return samples


@st.composite
def gate_specs(draw: st.DrawFn) -> GateSpec:
    kind = draw(
        st.sampled_from(
            ["consecutive_failures", "counter_ratio", "histogram_quantile", "gauge", "prometheus"]
        )
    )
    window = float(draw(st.sampled_from([30, 60, 90, 300, 600])))
    base = GateSpec(
        name="g",
        kind="gauge",
        source="queue_files",
        threshold=0.0,
        unit="items",
        window_seconds=window,
        action="rollback",
        min_samples=draw(st.integers(1, 4)),
        no_data=draw(st.sampled_from(["inconclusive", "breach", "ignore"])),
        baseline=draw(st.sampled_from(["none", "relative"])),
    )
    if kind == "consecutive_failures":
        return replace(
            base,
            kind=kind,
            source="health",
            unit="checks",
            threshold=float(draw(st.integers(0, 4))),
        )
    if kind == "counter_ratio":
        return replace(
            base,
            kind=kind,
            source="metrics",
            unit="percent",
            numerator=NUM,
            denominator=DEN,
            min_samples=max(2, base.min_samples),
            threshold=float(draw(st.integers(0, 60))),
        )
    if kind == "histogram_quantile":
        return replace(
            base,
            kind=kind,
            source="metrics",
            unit="ms",
            metric=HIST,
            quantile=0.95,
            threshold=float(draw(st.sampled_from([100, 500, 1000, 2000]))),
        )
    if kind == "prometheus":
        return replace(
            base, source="prometheus", promql="x", threshold=float(draw(st.integers(0, 100)))
        )
    zero = draw(st.booleans())
    return replace(
        base,
        window_seconds=0.0 if zero else window,
        min_samples=1 if zero else base.min_samples,
        threshold=float(draw(st.integers(0, 2000))),
    )


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gate_specs(), sample_series(), st.floats(0, 5000))
def test_engine_matches_brute_force_reference(
    gate: GateSpec, samples: list[Sample], now: float
) -> None:
    (verdict,) = evaluate_gates([gate], samples, now=now)
    expected, count = ref_value(gate, ref_window(samples, now, gate.window_seconds))
    assert close(verdict.value, expected), (verdict, expected)
    assert verdict.samples == count
    if expected is None or not math.isclose(expected, gate.threshold, rel_tol=1e-9):
        assert verdict.status == ref_status(gate, expected)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(gate_specs(), min_size=1, max_size=4),
    sample_series(),
    st.lists(st.floats(0, 200), max_size=4),
    st.booleans(),
)
def test_incremental_evaluator_equals_engine(
    gates: list[GateSpec], samples: list[Sample], extra_waits: list[float], with_baseline: bool
) -> None:
    gates = [
        replace(g, name=f"g{i}") if g.source != "prometheus" else g for i, g in enumerate(gates)
    ]
    baseline = samples[0] if samples and with_baseline else None
    samples = samples[1:] if baseline is not None else samples
    evaluator = IncrementalEvaluator(gates)
    seen: list[Sample] = []
    for sample in samples:
        evaluator.push(sample)
        seen.append(sample)
        assert evaluator.evaluate(sample.at, baseline) == evaluate_gates(
            gates, seen, now=sample.at, baseline=baseline
        )
    now = samples[-1].at if samples else 0.0
    for wait in extra_waits:  # time passing without polls: windows empty out
        now += wait
        assert evaluator.evaluate(now, baseline) == evaluate_gates(
            gates, seen, now=now, baseline=baseline
        )


wild = st.floats(allow_nan=True, allow_infinity=True)
keys = st.sampled_from(
    ["health_ok", "queue_items", NUM, DEN, gate_key("g")]
    + [bucket_key(HIST, b) for b in BOUNDS]
    + [f"{HIST}_bucket:-1.0", f"{HIST}_bucket:NaN"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(gate_specs(), min_size=1, max_size=3),
    st.lists(
        st.builds(
            Sample,
            at=st.floats(-1e6, 1e6),
            values=st.dictionaries(keys, wild, max_size=8),
            errors=st.dictionaries(st.sampled_from(["health", "metrics"]), st.text(max_size=5)),
        ),
        max_size=12,
    ),
    st.floats(-1e6, 1e6),
)
def test_engine_never_crashes_on_wild_values(
    gates: list[GateSpec], samples: list[Sample], now: float
) -> None:
    verdicts = evaluate_gates(gates, samples, now=now, baseline=samples[0] if samples else None)
    for verdict in verdicts:
        assert verdict.status in ("pass", "fail", "inconclusive")
        assert verdict.value is None or not math.isnan(verdict.value)
        assert verdict.reason
    evaluator = IncrementalEvaluator(gates)
    for sample in sorted(samples, key=lambda s: s.at):
        evaluator.push(sample)
    if not samples or now >= max(s.at for s in samples):
        assert evaluator.evaluate(now) == evaluate_gates(gates, samples, now=now)
