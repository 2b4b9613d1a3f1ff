"""Each gate at and just past its boundary, windows, resets, no-data policies, baselines."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from dhash_gha.core.gates.engine import GateVerdict, evaluate_gates
from dhash_gha.core.gates.sample import Sample, bucket_key, gate_key
from dhash_gha.core.gates.spec import GateSpec, load_gate_specs

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "dhash-app"
HIST = "dhash_hash_duration_seconds"
FAIL = "dhash_extraction_failures_total"
ATTEMPTS = "dhash_extraction_attempts_total"


def production_gates() -> dict[str, GateSpec]:
    data = json.loads((EXAMPLE / "quality-gates-config.json").read_text(encoding="utf-8"))
    return {g.name: g for g in load_gate_specs(data["environments"]["production"])}


GATES = production_gates()


def gate(name: str, **changes: Any) -> GateSpec:
    base = GATES[name]
    data = {**base.__dict__, **changes}
    return GateSpec(**data)


def one(spec: GateSpec, samples: list[Sample], now: float, **kw: Any) -> GateVerdict:
    (verdict,) = evaluate_gates([spec], samples, now=now, **kw)
    return verdict


def health_series(flags: str, step: float = 30.0) -> list[Sample]:
    """'1101' → samples at 0, 30, 60 … with health_ok; '.' is a poll without health data."""
    out = []
    for i, flag in enumerate(flags):
        values = {} if flag == "." else {"health_ok": float(flag)}
        out.append(Sample(at=i * step, values=values))
    return out


# --- consecutive failures -----------------------------------------------------------------
def test_two_consecutive_failures_pass_three_fail() -> None:
    spec = GATES["health_failures"]
    two = one(spec, health_series("1001"), now=90)
    three = one(spec, health_series("10001"), now=120)
    assert (two.status, two.value) == ("pass", 2.0)
    assert (three.status, three.value) == ("fail", 3.0)
    assert three.reason.startswith("3 checks > 2 checks")


def test_failures_split_by_a_success_do_not_add_up() -> None:
    verdict = one(GATES["health_failures"], health_series("0010011"), now=180)
    assert (verdict.status, verdict.value) == ("pass", 2.0)


def test_missing_health_sample_neither_breaks_nor_extends_a_run() -> None:
    verdict = one(GATES["health_failures"], health_series("00.0"), now=90)
    assert (verdict.status, verdict.value, verdict.samples) == ("fail", 3.0, 3)


def test_window_slides_past_old_failures() -> None:
    samples = health_series("000" + "1" * 10)  # failures at 0, 30, 60; the window is 300 s
    spec = GATES["health_failures"]
    assert one(spec, samples, now=299).value == 3.0  # (-1, 299] still holds t=0
    assert one(spec, samples, now=299).status == "fail"
    assert one(spec, samples, now=300).value == 2.0  # (0, 300]: t=0 has left
    assert one(spec, samples, now=300).status == "pass"
    assert one(spec, samples, now=360).value == 0.0


def test_no_health_data_breaches_under_breach_policy() -> None:
    samples = [Sample(at=0, values={}, errors={"health": "connection refused"})]
    verdict = one(GATES["health_failures"], samples, now=0)
    assert verdict.status == "fail" and verdict.no_data and verdict.value is None
    assert "no data" in verdict.reason and "connection refused" in verdict.reason


# --- counter ratio --------------------------------------------------------------------------
def ratio_samples(pairs: list[tuple[float, float]], step: float = 30.0) -> list[Sample]:
    return [Sample(at=i * step, values={FAIL: f, ATTEMPTS: a}) for i, (f, a) in enumerate(pairs)]


@pytest.mark.parametrize(
    ("failures", "attempts", "status"),
    [(5, 100, "pass"), (50001, 1000000, "fail"), (0, 100, "pass"), (6, 100, "fail")],
)
def test_ratio_boundary_is_strict(failures: float, attempts: float, status: str) -> None:
    samples = ratio_samples([(1000, 10000), (1000 + failures, 10000 + attempts)])
    verdict = one(GATES["extraction_failure_rate"], samples, now=30)
    assert verdict.status == status
    assert verdict.value == pytest.approx(100 * failures / attempts)


def test_ratio_just_past_five_percent_shows_the_deciding_digits() -> None:
    samples = ratio_samples([(0, 0), (50001, 1000000)])
    verdict = one(GATES["extraction_failure_rate"], samples, now=30)
    assert verdict.status == "fail" and "5.0001 % > 5 %" in verdict.reason


def test_counter_reset_adds_the_new_value() -> None:
    # attempts 1000 → 1100 (+100), restart → 40 (+40), → 100 (+60): 200 attempts;
    # failures 50 → 52 (+2), restart → 3 (+3), → 5 (+2): 7 failures → 3.5 %
    samples = ratio_samples([(50, 1000), (52, 1100), (3, 40), (5, 100)])
    verdict = one(GATES["extraction_failure_rate"], samples, now=90)
    assert verdict.value == pytest.approx(3.5)
    assert verdict.status == "pass"


def test_reset_misread_as_negative_would_hide_failures() -> None:
    # Without reset handling the increase would be 20 - 100 = -80 failures.
    samples = ratio_samples([(100, 1000), (20, 100)])
    verdict = one(GATES["extraction_failure_rate"], samples, now=30)
    assert verdict.value == pytest.approx(20.0) and verdict.status == "fail"


def test_a_restart_seen_on_one_counter_resets_both() -> None:
    # Both counters live in the same process. Attempts drop 1000 → 50: it restarted.
    # Failures went 5 → 7, no drop, yet all 7 are new: 7 of 50 attempts is 14 %.
    # Judged per counter the failures would rise by only 2 (4 %) and a crash-looping
    # release would pass.
    samples = ratio_samples([(5, 1000), (7, 50)])
    verdict = one(GATES["extraction_failure_rate"], samples, now=30)
    assert verdict.value == pytest.approx(14.0) and verdict.status == "fail"


def test_no_attempts_in_window_is_no_data() -> None:
    samples = ratio_samples([(5, 100), (5, 100), (5, 100)])
    verdict = one(GATES["extraction_failure_rate"], samples, now=60)
    assert verdict.status == "inconclusive" and verdict.no_data
    assert "no increase of dhash_extraction_attempts_total" in verdict.reason


def test_ratio_needs_min_samples() -> None:
    verdict = one(GATES["extraction_failure_rate"], ratio_samples([(5, 100)]), now=0)
    assert verdict.status == "inconclusive" and verdict.samples == 1
    assert "1 of 2 required sample(s) in the last 10 min" in verdict.reason


def test_ratio_window_excludes_old_increase() -> None:
    # A burst of failures at the start, then 20 minutes clean: a 10-minute window is clean.
    pairs = [(0.0, 0.0), (100.0, 100.0)] + [(100.0, 100.0 + 10 * i) for i in range(1, 41)]
    samples = ratio_samples(pairs)
    assert one(GATES["extraction_failure_rate"], samples, now=60).status == "fail"
    late = one(GATES["extraction_failure_rate"], samples, now=41 * 30)
    assert (late.status, late.value) == ("pass", 0.0)


# --- histogram quantile -------------------------------------------------------------------------
def hist_sample(at: float, counts: dict[float, float]) -> Sample:
    return Sample(at=at, values={bucket_key(HIST, le): c for le, c in counts.items()})


def p95(increase: dict[float, float], base: dict[float, float] | None = None) -> GateVerdict:
    base = base or dict.fromkeys(increase, 0.0)
    samples = [
        hist_sample(0, base),
        hist_sample(30, {le: base[le] + increase[le] for le in increase}),
    ]
    return one(GATES["p95_hash_time"], samples, now=30)


def test_p95_exactly_2000_ms_passes() -> None:
    # 100 observations: 90 under 1 s, all under 3 s. rank 95 → 1 + 2 * (5/10) = 2.0 s.
    verdict = p95({1.0: 90, 3.0: 100, math.inf: 100})
    assert verdict.value == pytest.approx(2000.0) and verdict.status == "pass"


def test_p95_just_over_2000_ms_fails() -> None:
    # rank 95 → 1 + 2 * (5.05/10) … use bounds that put it at 2000.1 ms: start 1.0, width 2.0002
    verdict = p95({1.0: 90, 3.0002: 100, math.inf: 100})
    assert verdict.value == pytest.approx(2000.1) and verdict.status == "fail"


def test_p95_in_inf_bucket_returns_highest_finite_bound() -> None:
    verdict = p95({0.5: 10, 2.5: 50, math.inf: 100})
    assert verdict.value == pytest.approx(2500.0) and verdict.status == "fail"


def test_p95_only_uses_increase_inside_window() -> None:
    slow_history = {0.1: 0, 5.0: 0, math.inf: 1000}  # 1000 very slow requests before the window
    verdict = p95({0.1: 100, 5.0: 100, math.inf: 100}, base=slow_history)
    assert verdict.value == pytest.approx(95.0) and verdict.status == "pass"


def test_p95_bucket_counter_reset_uses_new_values() -> None:
    samples = [
        hist_sample(0, {0.1: 500, 1.0: 900, math.inf: 1000}),
        hist_sample(30, {0.1: 10, 1.0: 10, math.inf: 20}),  # restart: 10 fast, 10 very slow
    ]
    verdict = one(GATES["p95_hash_time"], samples, now=30)
    assert verdict.value == pytest.approx(1000.0)  # rank 19 lands in +Inf → highest bound 1 s


def test_p95_bucket_first_seen_after_a_restart_counts_from_zero() -> None:
    # The release restarts with a finer bucket layout: 0.5, 2 and 5 s are new. After the
    # restart 30 requests took <= 1 s and 10 took 1-2 s: the P95 (rank 38) is 1.8 s. A new
    # bucket measured only from its own first reading would have no increase, flatten the
    # histogram above 1 s and report 5 s: a rollback of a release within its gate.
    after = {0.5: 30, 1.0: 30, 2.0: 40, 5.0: 40, math.inf: 40}
    samples = [
        hist_sample(0, {1.0: 100, math.inf: 100}),
        hist_sample(30, after),
        hist_sample(60, after),
    ]
    for now in (30, 60):
        verdict = one(GATES["p95_hash_time"], samples, now=now)
        assert verdict.value == pytest.approx(1800.0) and verdict.status == "pass"


def test_p95_bucket_missing_from_a_scrape_without_a_restart_keeps_its_own_increase() -> None:
    samples = [
        hist_sample(0, {1.0: 0, 2.0: 0, 5.0: 0, math.inf: 0}),
        hist_sample(30, {1.0: 0, 5.0: 50, math.inf: 50}),  # this scrape missed le=2
        hist_sample(60, {1.0: 0, 2.0: 100, 5.0: 100, math.inf: 100}),
    ]
    verdict = one(GATES["p95_hash_time"], samples, now=60)
    assert verdict.value == pytest.approx(1950.0) and verdict.status == "pass"


def test_p95_no_observations_is_no_data() -> None:
    verdict = p95({0.5: 0, math.inf: 0})
    assert verdict.status == "inconclusive" and "no observations" in verdict.reason


def test_p95_without_inf_bucket_is_no_data() -> None:
    verdict = p95({0.5: 10, 1.0: 20})
    assert verdict.status == "inconclusive" and verdict.no_data


# --- gauge ------------------------------------------------------------------------------------------
def queue(values: list[float | None], step: float = 30.0) -> list[Sample]:
    return [
        Sample(at=i * step, values={} if v is None else {"queue_items": v})
        for i, v in enumerate(values)
    ]


@pytest.mark.parametrize(("items", "status"), [(1000, "pass"), (1001, "fail"), (0, "pass")])
def test_queue_boundary(items: float, status: str) -> None:
    assert one(GATES["low_confidence_queue"], queue([items]), now=0).status == status


def test_queue_window_zero_reads_latest_poll_only() -> None:
    spec = GATES["low_confidence_queue"]
    assert one(spec, queue([5000, 10]), now=30).status == "pass"
    # the latest poll had no queue data: no data, even though an older poll had some
    verdict = one(spec, queue([5000, None]), now=30)
    assert verdict.status == "inconclusive"
    assert "0 of 1 required sample(s) at the latest poll" in verdict.reason


def test_gauge_with_window_takes_maximum() -> None:
    spec = gate("low_confidence_queue", window_seconds=60)
    samples = queue([10, 2000, 10, 10])
    assert one(spec, samples, now=60).value == 2000
    assert one(spec, samples, now=90).value == 10  # 2000 at t=30 is out of (30, 90]


def test_future_samples_are_ignored() -> None:
    assert one(GATES["low_confidence_queue"], queue([5, 5000]), now=29).value == 5


# --- no-data policies ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "status", "phrase"),
    [
        ("inconclusive", "inconclusive", "no data ("),
        ("breach", "fail", "no_data policy is breach"),
        ("ignore", "pass", "no data ignored"),
    ],
)
def test_each_no_data_policy(policy: str, status: str, phrase: str) -> None:
    spec = gate("low_confidence_queue", no_data=policy)
    verdict = one(spec, [Sample(at=0, errors={"queue_files": "permission denied"})], now=0)
    assert verdict.status == status and phrase in verdict.reason and verdict.value is None
    assert "queue_files: permission denied" in verdict.reason


def test_nan_value_is_no_data() -> None:
    verdict = one(GATES["low_confidence_queue"], queue([math.nan]), now=0)
    assert verdict.no_data and verdict.status == "inconclusive"


# --- prometheus-sourced gates ----------------------------------------------------------------------
def test_prometheus_gate_reads_latest_value_in_window() -> None:
    spec = gate("extraction_failure_rate", source="prometheus")
    samples = [
        Sample(at=0, values={gate_key(spec.name): 9.0}),
        Sample(at=30, values={gate_key(spec.name): 4.0}),
    ]
    verdict = one(spec, samples, now=30)
    assert (verdict.value, verdict.status) == (4.0, "pass")


# --- baseline -----------------------------------------------------------------------------------------
def test_relative_baseline_judges_against_pre_deploy_value() -> None:
    spec = gate("low_confidence_queue", baseline="relative")
    before = Sample(at=-10, values={"queue_items": 1500})
    better = one(spec, queue([1400]), now=0, baseline=before)
    same = one(spec, queue([1500]), now=0, baseline=before)
    worse = one(spec, queue([1501]), now=0, baseline=before)
    assert [better.status, same.status, worse.status] == ["pass", "pass", "fail"]
    assert worse.limit == 1500 and "pre-deploy baseline 1500 items" in worse.reason


def test_baseline_below_threshold_changes_nothing() -> None:
    spec = gate("low_confidence_queue", baseline="relative")
    before = Sample(at=-10, values={"queue_items": 900})
    assert one(spec, queue([1001]), now=0, baseline=before).status == "fail"


def test_baseline_ignored_without_relative_mode() -> None:
    before = Sample(at=-10, values={"queue_items": 1500})
    verdict = one(GATES["low_confidence_queue"], queue([1400]), now=0, baseline=before)
    assert verdict.status == "fail" and verdict.limit == 1000


def test_relative_baseline_for_ratio_uses_lifetime_totals() -> None:
    spec = gate("extraction_failure_rate", baseline="relative")
    before = Sample(at=-10, values={FAIL: 80, ATTEMPTS: 1000})  # 8 % before the deploy
    samples = ratio_samples([(80, 1000), (86, 1100)])  # 6 % since: better than before
    verdict = one(spec, samples, now=30, baseline=before)
    assert verdict.baseline == pytest.approx(8.0) and verdict.status == "pass"


def test_samples_out_of_order_are_sorted_by_time() -> None:
    samples = list(reversed(health_series("1000")))
    assert one(GATES["health_failures"], samples, now=90).value == 3.0


def test_relative_baseline_for_p95_and_health() -> None:
    p95_gate = gate("p95_hash_time", baseline="relative")
    slow_before = hist_sample(-10, {1.0: 0, 5.0: 100, math.inf: 100})  # lifetime p95 4.8 s
    verdict = one(
        p95_gate,
        [
            hist_sample(0, {1.0: 0, 5.0: 0, math.inf: 0}),
            hist_sample(30, {1.0: 0, 5.0: 100, math.inf: 100}),
        ],
        now=30,
        baseline=slow_before,
    )
    assert verdict.baseline == pytest.approx(4800.0)
    assert verdict.value == pytest.approx(4800.0) and verdict.status == "pass"
    health_gate = gate("health_failures", baseline="relative")
    before = Sample(at=-10, values={"health_ok": 0.0})
    failing = one(health_gate, health_series("000"), now=60, baseline=before)
    assert failing.baseline == 1.0 and failing.status == "fail"  # one check never excuses three


def test_relative_baseline_for_prometheus_gate_uses_its_key() -> None:
    spec = gate("low_confidence_queue", source="prometheus", promql="sum(q)", baseline="relative")
    before = Sample(at=-10, values={gate_key(spec.name): 1200.0})
    now_value = [Sample(at=0, values={gate_key(spec.name): 1100.0})]
    assert one(spec, now_value, now=0, baseline=before).status == "pass"


def test_baseline_without_the_metric_is_ignored() -> None:
    spec = gate("low_confidence_queue", baseline="relative")
    verdict = one(spec, queue([1001]), now=0, baseline=Sample(at=-1, values={}))
    assert verdict.baseline is None and verdict.status == "fail"


def test_verdict_helpers() -> None:
    failing = one(GATES["low_confidence_queue"], queue([1001]), now=0)
    assert failing.failed and failing.triggers_rollback
    assert failing.as_dict()["limit"] == 1000 and failing.as_dict()["status"] == "fail"
    alerting = one(gate("low_confidence_queue", action="alert"), queue([1001]), now=0)
    assert alerting.failed and not alerting.triggers_rollback
