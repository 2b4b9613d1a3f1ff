"""Multiwindow, multi-burn-rate SLO alerts: the Workbook's worked numbers, deploy caps, edges."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhash_gha.core.gates.sample import Sample
from dhash_gha.core.judge.burn_rate import (
    DAY,
    DEFAULT_PAIRS,
    HOUR,
    MINUTE,
    SLO_PERIOD_SECONDS,
    TICKET_PAIRS,
    AlertPair,
    BurnRatePolicy,
    CounterPoint,
    alert_pair,
    error_budget_from_counts,
    error_budget_from_ratio,
    evaluate_burn_rate,
    points_from_samples,
)
from dhash_gha.errors import BadInput

SLO = 0.999
POLICY = BurnRatePolicy(slo=SLO)


def traffic(
    start: int,
    end: int,
    *,
    per_second: int,
    bad_per_second: int,
    counters: tuple[float, float] = (0.0, 0.0),
) -> list[CounterPoint]:
    """One point a second from ``start`` to ``end`` inclusive, counters growing steadily."""
    bad, total = counters
    points = []
    for at in range(start, end + 1):
        if at > start:
            bad += bad_per_second
            total += per_second
        points.append(CounterPoint(float(at), bad, total))
    return points


def then(points: list[CounterPoint], end: int, *, per_second: int, bad_per_second: int) -> None:
    """Extend ``points`` to ``end`` at a new rate, from where the counters are."""
    last = points[-1]
    points.extend(
        traffic(
            int(last.at),
            end,
            per_second=per_second,
            bad_per_second=bad_per_second,
            counters=(last.bad, last.total),
        )[1:]
    )


# --- the defaults ------------------------------------------------------------------------------
def test_default_pairs_are_the_workbooks_budget_fractions_of_a_30_day_slo() -> None:
    # factor = share of the budget spent × SLO period ÷ long window
    page, slow = DEFAULT_PAIRS
    assert (page.long_seconds, page.short_seconds, page.factor) == (HOUR, 5 * MINUTE, 14.4)
    assert (slow.long_seconds, slow.short_seconds, slow.factor) == (6 * HOUR, 30 * MINUTE, 6.0)
    assert page.factor == pytest.approx(0.02 * SLO_PERIOD_SECONDS / page.long_seconds)
    assert slow.factor == pytest.approx(0.05 * SLO_PERIOD_SECONDS / slow.long_seconds)
    day, three_days = TICKET_PAIRS
    assert day.factor == pytest.approx(0.10 * SLO_PERIOD_SECONDS / DAY)
    assert three_days.factor == pytest.approx(0.10 * SLO_PERIOD_SECONDS / (3 * DAY))
    assert [p.label for p in DEFAULT_PAIRS + TICKET_PAIRS] == ["1h/5m", "6h/30m", "1d/2h", "3d/6h"]


def test_the_short_window_defaults_to_a_twelfth_of_the_long_one() -> None:
    assert alert_pair(HOUR, 14.4) == DEFAULT_PAIRS[0]
    assert alert_pair(6 * HOUR, 6) == DEFAULT_PAIRS[1]
    assert alert_pair(HOUR, 2, short_seconds=60).short_seconds == 60


def test_the_default_minimum_traffic_is_where_one_bad_event_cannot_fire() -> None:
    # 1 / (14.4 × 0.001) = 69.4: with 70 events one error burns 1/70/0.001 = 14.29 ≤ 14.4
    assert POLICY.min_events_for(DEFAULT_PAIRS[0]) == 70
    assert POLICY.min_events_for(DEFAULT_PAIRS[1]) == 167  # 1 / 0.006 = 166.7
    assert BurnRatePolicy(slo=0.99).min_events_for(DEFAULT_PAIRS[0]) == 7
    assert BurnRatePolicy(slo=SLO, min_events=5).min_events_for(DEFAULT_PAIRS[0]) == 5


# --- the worked examples -------------------------------------------------------------------------
def test_a_total_outage_after_clean_traffic_fires_the_page_pair_after_52_s() -> None:
    """The Workbook's detection time: (1 − SLO) × factor × long window ÷ error ratio.

    10 requests a second, all good for an hour, then every request fails. t seconds
    into the outage the 1 h window holds 36 000 requests of which 10·t failed, an
    error ratio of t / 3600, a burn rate of t / 3600 / 0.001 = t / 3.6. That exceeds
    14.4 once t > 0.001 × 14.4 × 3600 s = 51.84 s: at the 52nd second, not the 51st.
    The 5 min window by then is 520 / 3000 = 17 % errors (burn 173): it agrees.
    The watch started at the deploy 6 h before the outage, so no window is capped
    (a younger deploy caps the 6 h window, which then fires the 6× pair sooner).
    """
    onset = 6 * 3600
    points = traffic(0, onset, per_second=10, bad_per_second=0)
    then(points, onset + 120, per_second=10, bad_per_second=10)

    at_51 = evaluate_burn_rate(points, POLICY, now=onset + 51, deploy_at=0)
    at_52 = evaluate_burn_rate(points, POLICY, now=onset + 52, deploy_at=0)

    assert at_51.status == "ok"
    assert at_52.status == "fail"
    page = at_52.pairs[0]
    assert page.fired and not page.long.capped
    assert (page.long.bad, page.long.events) == (520, 36_000)
    assert page.long.burn_rate == pytest.approx(52 / 3.6)
    assert page.short.burn_rate == pytest.approx(520 / 3000 / 0.001)
    assert not at_52.pairs[1].fired  # 6 h window: 520 / 216 000 → burn 2.4
    assert at_52.pairs[1].long.burn_rate == pytest.approx(520 / 216_000 / 0.001)
    assert "1h/5m fired" in at_52.reason and "SLO 99.9 %" in at_52.reason


def test_a_total_outage_right_from_the_deploy_fires_once_the_short_window_is_covered() -> None:
    """Capped at the deploy, both windows hold only the new release's traffic, 100 % errors
    (burn 1000) from the first request; the pair is judged from 5 min after the deploy on.
    (The 52 s of the Workbook need an hour of clean traffic inside the window.)"""
    points = traffic(0, 400, per_second=10, bad_per_second=10)

    before = evaluate_burn_rate(points, POLICY, now=299, deploy_at=0)
    assert before.status == "inconclusive"
    assert [p.status for p in before.pairs] == ["not-due", "not-due"]
    assert "not judged until 5 min after the deploy" in before.pairs[0].reason

    due = evaluate_burn_rate(points, POLICY, now=300, deploy_at=0)
    assert due.status == "fail"
    page = due.pairs[0]
    assert page.long.capped and page.long.seconds == 300 and page.long.start == 0
    assert page.long.burn_rate == pytest.approx(1000)
    assert "since the deploy" in page.reason


def test_a_young_deploys_capped_window_fires_the_6x_pair_before_the_page_pair() -> None:
    """2 h after the deploy, the 6 h window holds only those 2 h (capped), so an outage
    dilutes less: 10·t bad of 10·(7200 + t) exceeds 6 × 0.001 once t > 43.5 s, while the
    1 h window needs t > 51.84 s. Capping makes a young release judged on its own traffic."""
    onset = 2 * 3600
    points = traffic(0, onset, per_second=10, bad_per_second=0)
    then(points, onset + 60, per_second=10, bad_per_second=10)
    assert evaluate_burn_rate(points, POLICY, now=onset + 43, deploy_at=0).status == "ok"
    at_44 = evaluate_burn_rate(points, POLICY, now=onset + 44, deploy_at=0)
    assert [p.status for p in at_44.pairs] == ["quiet", "fired"]
    assert at_44.pairs[1].long.seconds == onset + 44 and at_44.pairs[1].long.capped


def test_two_percent_errors_burn_20_and_fire_the_page_pair() -> None:
    points = traffic(0, 600, per_second=50, bad_per_second=1)  # 1 in 50 = 2 %
    verdict = evaluate_burn_rate(points, POLICY, now=600, deploy_at=0)
    assert verdict.status == "fail"
    page = verdict.pairs[0]
    assert page.fired
    assert page.long.burn_rate == pytest.approx(20) and page.short.burn_rate == pytest.approx(20)
    assert verdict.pairs[1].status == "not-due"


def test_one_percent_errors_burn_10_quiet_for_the_page_pair_fire_the_6x_pair_at_30_min() -> None:
    points = traffic(0, 3600, per_second=100, bad_per_second=1)  # 1 %: burn 10
    early = evaluate_burn_rate(points, POLICY, now=1799, deploy_at=0)
    assert early.status == "ok"  # the page pair is judged and quiet, the 6× one not due yet
    assert early.pairs[0].status == "quiet"
    assert early.pairs[0].long.burn_rate == pytest.approx(10)
    assert early.pairs[1].status == "not-due"

    later = evaluate_burn_rate(points, POLICY, now=1800, deploy_at=0)
    assert later.status == "fail"
    assert [p.status for p in later.pairs] == ["quiet", "fired"]
    assert later.pairs[1].long.seconds == 1800  # the 6 h window capped at the deploy


def test_an_old_fire_before_the_deploy_is_not_blamed_on_the_new_release() -> None:
    deploy = 3600
    points = traffic(0, deploy - 600, per_second=10, bad_per_second=0)
    then(points, deploy, per_second=10, bad_per_second=10)  # 10 min of total outage, then…
    then(points, deploy + 900, per_second=10, bad_per_second=0)  # …the deploy fixed it

    # A plain SLO alert (no deploy) still sees the outage in both windows 2 min later:
    assert evaluate_burn_rate(points, POLICY, now=deploy + 120).status == "fail"

    watching = evaluate_burn_rate(points, POLICY, now=deploy + 120, deploy_at=deploy)
    assert watching.status == "inconclusive"  # not due: never fail for the old fire
    settled = evaluate_burn_rate(points, POLICY, now=deploy + 600, deploy_at=deploy)
    assert settled.status == "ok"
    page = settled.pairs[0]
    assert page.long.start == deploy and page.long.bad == 0 and page.long.events == 6000


def test_a_burst_that_stopped_does_not_fire_the_short_window_says_why() -> None:
    points = traffic(0, 3600, per_second=10, bad_per_second=0)
    then(points, 3900, per_second=10, bad_per_second=5)  # 5 min of 50 % errors…
    then(points, 4500, per_second=10, bad_per_second=0)  # …then 10 min clean
    verdict = evaluate_burn_rate(points, POLICY, now=4500)
    page = verdict.pairs[0]
    assert page.status == "quiet"
    assert page.long.burn_rate is not None and page.long.burn_rate > 14.4
    assert page.short.burn_rate == 0
    assert "the short window is not" in page.reason


# --- edges -----------------------------------------------------------------------------------
def test_a_burn_of_exactly_the_factor_does_not_fire_and_just_above_does() -> None:
    pair = AlertPair(long_seconds=600, short_seconds=600, factor=14.4)
    policy = BurnRatePolicy(slo=SLO, pairs=(pair,))
    exactly = [CounterPoint(0, 0, 0), CounterPoint(600, 144, 10_000)]  # 1.44 % = 14.4 × 0.1 %
    above = [CounterPoint(0, 0, 0), CounterPoint(600, 145, 10_000)]
    assert evaluate_burn_rate(exactly, policy, now=600).status == "ok"
    assert evaluate_burn_rate(above, policy, now=600).status == "fail"


def test_a_sample_exactly_at_the_window_start_begins_the_increase() -> None:
    pair = AlertPair(long_seconds=600, short_seconds=600, factor=1)
    policy = BurnRatePolicy(slo=0.9, pairs=(pair,), min_events=0)
    points = [CounterPoint(0, 0, 0), CounterPoint(300, 5, 50), CounterPoint(600, 5, 100)]
    window = evaluate_burn_rate(points, policy, now=600).pairs[0].long
    assert (window.samples, window.bad, window.events) == (3, 5, 100)
    later = evaluate_burn_rate(points, policy, now=601).pairs[0].long
    assert (later.samples, later.bad, later.events) == (2, 0, 50)


def test_too_little_traffic_is_inconclusive_not_ok_and_not_fail() -> None:
    points = traffic(0, 600, per_second=0, bad_per_second=0)
    points[-1] = CounterPoint(600, 3, 5)  # 5 requests, 3 failed: a burn of 600, but 5 events
    verdict = evaluate_burn_rate(points, POLICY, now=600, deploy_at=0)
    assert verdict.status == "inconclusive"
    assert verdict.pairs[0].status == "inconclusive"
    assert "too little traffic to judge: 5 events in 5 min (needs 70)" in verdict.pairs[0].reason


def test_no_traffic_at_all_is_inconclusive_even_without_a_minimum() -> None:
    policy = BurnRatePolicy(slo=SLO, min_events=0)
    points = traffic(0, 600, per_second=0, bad_per_second=0)
    verdict = evaluate_burn_rate(points, policy, now=600, deploy_at=0)
    assert verdict.status == "inconclusive"
    assert verdict.pairs[0].short.burn_rate is None


def test_no_samples_is_inconclusive() -> None:
    verdict = evaluate_burn_rate([], POLICY, now=10_000)
    assert verdict.status == "inconclusive"
    assert all(p.long.samples == 0 for p in verdict.pairs)


def test_a_restart_resets_both_counters_and_the_new_counts_are_all_increase() -> None:
    points = traffic(0, 300, per_second=50, bad_per_second=1)
    # restart at 301: both counters begin again from zero; 5 bad of 50 since.
    points += [CounterPoint(301, 0, 0), CounterPoint(302, 5, 50)]
    pair = AlertPair(long_seconds=302, short_seconds=302, factor=1)
    policy = BurnRatePolicy(slo=SLO, pairs=(pair,))
    window = evaluate_burn_rate(points, policy, now=302, deploy_at=0).pairs[0].long
    assert window.bad == 300 + 0 + 5
    assert window.events == 15_000 + 0 + 50


def test_unordered_points_and_non_finite_counters_are_handled() -> None:
    points = traffic(0, 600, per_second=50, bad_per_second=1)
    noisy = [*reversed(points), CounterPoint(450, math.nan, 1.0), CounterPoint(460, 1.0, math.inf)]
    assert evaluate_burn_rate(noisy, POLICY, now=600, deploy_at=0) == evaluate_burn_rate(
        points, POLICY, now=600, deploy_at=0
    )


def test_points_from_samples_keeps_the_samples_with_both_counters() -> None:
    samples = [
        Sample(at=0, values={"bad": 0, "all": 0}),
        Sample(at=1, values={"all": 5}),
        Sample(at=2, values={"bad": 1, "all": math.nan}),
        Sample(at=3, values={"bad": 1, "all": 10}),
    ]
    assert points_from_samples(samples, "bad", "all") == [
        CounterPoint(0, 0, 0),
        CounterPoint(3, 1, 10),
    ]


@settings(max_examples=60, deadline=None)
@given(
    before=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=999),
            st.integers(min_value=0, max_value=10**6),
            st.integers(min_value=0, max_value=10**6),
        ),
        max_size=20,
    ),
    elapsed=st.integers(min_value=0, max_value=8 * 3600),
    bad_per_second=st.integers(min_value=0, max_value=3),
)
def test_nothing_before_the_deploy_changes_the_verdict(
    before: list[tuple[int, int, int]], elapsed: int, bad_per_second: int
) -> None:
    deploy = 1000
    after = traffic(deploy, deploy + elapsed, per_second=100, bad_per_second=bad_per_second)
    noise = [CounterPoint(float(at), float(b), float(t)) for at, b, t in before]
    now = deploy + elapsed
    clean = evaluate_burn_rate(after, POLICY, now=now, deploy_at=deploy)
    assert evaluate_burn_rate(noise + after, POLICY, now=now, deploy_at=deploy) == clean
    if bad_per_second == 0:
        assert clean.status != "fail"


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("slo", [0, 1, 99.9, -0.5, math.nan, math.inf])
def test_an_slo_that_is_not_a_ratio_is_bad_input(slo: float) -> None:
    with pytest.raises(BadInput, match="SLO") as caught:
        BurnRatePolicy(slo=slo)
    assert caught.value.tip and "0.999" in caught.value.tip


@pytest.mark.parametrize(
    ("long", "short", "factor", "message"),
    [
        (0, 1, 1, "long window"),
        (math.inf, 1, 1, "long window"),
        (60, 120, 1, "short window"),
        (60, 0, 1, "short window"),
        (60, 5, 0, "factor"),
        (60, 5, math.nan, "factor"),
    ],
)
def test_bad_alert_pairs_are_bad_input(
    long: float, short: float, factor: float, message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        AlertPair(long_seconds=long, short_seconds=short, factor=factor)


def test_other_bad_policy_and_evaluation_input() -> None:
    with pytest.raises(BadInput, match="no alert pairs"):
        BurnRatePolicy(slo=SLO, pairs=())
    with pytest.raises(BadInput, match="min_events"):
        BurnRatePolicy(slo=SLO, min_events=-1)
    with pytest.raises(BadInput, match="deploy time"):
        evaluate_burn_rate([], POLICY, now=10, deploy_at=11)
    with pytest.raises(BadInput, match="now"):
        evaluate_burn_rate([], POLICY, now=math.nan)


# --- the error budget -------------------------------------------------------------------------
def test_one_error_in_a_thousand_spends_a_999_budget_exactly() -> None:
    budget = error_budget_from_counts(SLO, good=999, total=1000)
    assert budget.consumed == 1 and budget.remaining == 0 and budget.spent
    assert "freeze deploys" in budget.reason


def test_half_the_budget_used_leaves_half() -> None:
    budget = error_budget_from_counts(SLO, good=9995, total=10_000)
    assert (budget.consumed, budget.remaining, budget.spent) == (0.5, 0.5, False)
    assert budget.error_ratio == pytest.approx(0.0005)
    assert "50 % of the error budget used, 50 % remains" in budget.reason


def test_an_overspent_budget_has_a_negative_remainder() -> None:
    budget = error_budget_from_ratio(SLO, 0.002)
    assert (budget.consumed, budget.remaining, budget.spent) == (2, -1, True)
    assert not error_budget_from_ratio(SLO, 0.0).spent


def test_no_events_in_the_period_uses_nothing() -> None:
    budget = error_budget_from_counts(0.99, good=0, total=0)
    assert (budget.error_ratio, budget.consumed, budget.spent) == (None, 0, False)


@pytest.mark.parametrize(("good", "total"), [(11, 10), (-1, 10), (math.nan, 10), (1, math.inf)])
def test_impossible_counts_are_bad_input(good: float, total: float) -> None:
    with pytest.raises(BadInput, match="good"):
        error_budget_from_counts(SLO, good=good, total=total)


@pytest.mark.parametrize("ratio", [-0.1, 1.5, math.nan])
def test_an_error_ratio_outside_0_1_is_bad_input(ratio: float) -> None:
    with pytest.raises(BadInput, match="error ratio"):
        error_budget_from_ratio(SLO, ratio)
    with pytest.raises(BadInput, match="SLO"):
        error_budget_from_ratio(1.5, 0.1)
