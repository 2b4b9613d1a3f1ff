"""Multiwindow, multi-burn-rate SLO alerting, and the error budget left. Pure: no I/O.

Reference: The Site Reliability Workbook, chapter 5 "Alerting on SLOs", the
multiwindow, multi-burn-rate alerts. Semantics, defined here once:

* The **error ratio** over a window is increase(bad) / increase(total) of two
  counters (cumulative, like Prometheus counters). Increases come from
  ``gates.counters.joint_increases``: a drop of either counter is a restart of
  their process and resets both, and nothing is extrapolated to the edges.
* The **burn rate** is the error ratio ÷ (1 − SLO). Burning at 1 spends exactly
  the error budget over the SLO period; burning at 14.4 for 1 h spends 2 % of a
  30-day budget (14.4 × 1 h ÷ 720 h), at 6 for 6 h 5 % (6 × 6 h ÷ 720 h).
* An **alert pair** (long window, short window, factor) fires when the burn
  rate over BOTH windows is strictly greater than the factor; the short
  window (long ÷ 12 by default) makes the alert stop soon after the errors
  stop. Pairs are OR-ed. Decided exactly: ``bad > factor × (1 − SLO) × total``
  in rational arithmetic, so a burn of exactly the factor does not fire.
* A window of ``w`` seconds at ``now`` holds the samples with
  ``now − w <= at <= now``: closed at its start, so a sample taken exactly at
  the start (a baseline sample taken at the deploy) is where the increase begins
  and the increase covers the whole window when samples fall on its edges.
* **Post-deploy watch** (``deploy_at`` given): no window reaches back before the
  deploy. Each window is capped at the time since the deploy; a pair is judged
  only once that time covers its short window (before that it is *not due*).
  Errors before the deploy are therefore never blamed on the new release.
* **Low traffic**: a window with fewer events (increase of the total counter)
  than the pair's minimum makes the pair *inconclusive*, neither ok nor fail.
  The default minimum is the smallest count at which one bad event alone
  cannot fire the pair: ceil(1 ÷ (factor × (1 − SLO))), 70 for 14.4 at 99.9 %.
* The **verdict**: ``fail`` when a pair fired; otherwise ``inconclusive`` when
  no pair is due yet or a due pair is inconclusive; otherwise ``ok``.
* An SLO (and a factor) is read as the decimal number it is written as:
  0.999 is exactly 999/1000, so 1 error in 1000 events is exactly the budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from dhash_gha.core.gates.counters import joint_increases
from dhash_gha.core.gates.engine import reading
from dhash_gha.core.gates.sample import Sample
from dhash_gha.core.gates.spec import format_duration, format_number
from dhash_gha.errors import BadInput

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
SLO_PERIOD_SECONDS = 30 * DAY  # the period the default factors are computed for
SHORT_WINDOW_DIVISOR = 12  # short window = long window ÷ 12 (the Workbook's choice)

PairStatus = Literal["fired", "quiet", "inconclusive", "not-due"]
Verdict = Literal["fail", "ok", "inconclusive"]


def decimal(value: float) -> Fraction:
    """The decimal number ``value`` is written as (0.999 → 999/1000), not its binary neighbour."""
    return Fraction(repr(float(value)))


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _span(seconds: float) -> str:
    """Compact label of a window: 3600 → '1h', 300 → '5m', 90 → '90s'."""
    for unit, size in (("d", DAY), ("h", HOUR), ("m", MINUTE)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{format_number(seconds)}s"


# --- the alert pairs -------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertPair:
    """Fires when the burn rate over both windows is strictly greater than ``factor``."""

    long_seconds: float
    short_seconds: float
    factor: float

    def __post_init__(self) -> None:
        if not (_finite(self.long_seconds) and self.long_seconds > 0):
            raise BadInput(
                f"burn-rate alert pair: long window {self.long_seconds!r} is not a positive "
                "number of seconds",
                tip="give the long window in seconds, e.g. 3600 for 1 h",
            )
        if not (_finite(self.short_seconds) and 0 < self.short_seconds <= self.long_seconds):
            raise BadInput(
                f"burn-rate alert pair {_span(self.long_seconds)}: short window "
                f"{self.short_seconds!r} must be positive and at most the long window",
                tip="leave the short window out to use long ÷ 12 (5 min for 1 h)",
            )
        if not (_finite(self.factor) and self.factor > 0):
            raise BadInput(
                f"burn-rate alert pair {self.label}: factor {self.factor!r} is not a positive number",
                tip="give the burn-rate factor, e.g. 14.4 (2 % of a 30-day budget in 1 h)",
            )

    @property
    def label(self) -> str:
        """'1h/5m'."""
        return f"{_span(self.long_seconds)}/{_span(self.short_seconds)}"


def alert_pair(long_seconds: float, factor: float, short_seconds: float | None = None) -> AlertPair:
    """A pair whose short window defaults to ``long_seconds ÷ 12``."""
    short = long_seconds / SHORT_WINDOW_DIVISOR if short_seconds is None else short_seconds
    return AlertPair(long_seconds=long_seconds, short_seconds=short, factor=factor)


# The Workbook's paging pairs for a 30-day SLO: 2 % of the budget in 1 h, 5 % in 6 h.
DEFAULT_PAIRS: tuple[AlertPair, ...] = (
    AlertPair(long_seconds=1 * HOUR, short_seconds=5 * MINUTE, factor=14.4),
    AlertPair(long_seconds=6 * HOUR, short_seconds=30 * MINUTE, factor=6.0),
)
# Its ticket pairs (10 % of the budget in 1 d or in 3 d): too long for a post-deploy watch.
TICKET_PAIRS: tuple[AlertPair, ...] = (
    AlertPair(long_seconds=1 * DAY, short_seconds=2 * HOUR, factor=3.0),
    AlertPair(long_seconds=3 * DAY, short_seconds=6 * HOUR, factor=1.0),
)


@dataclass(frozen=True)
class BurnRatePolicy:
    """An SLO target (0 < slo < 1, e.g. 0.999), its alert pairs, and the low-traffic guard.

    ``min_events`` None: each pair's minimum is ceil(1 ÷ (factor × (1 − slo))).
    """

    slo: float
    pairs: tuple[AlertPair, ...] = DEFAULT_PAIRS
    min_events: float | None = None

    def __post_init__(self) -> None:
        if not (_finite(self.slo) and 0 < self.slo < 1):
            raise BadInput(
                f"burn rate: SLO {self.slo!r} is not a ratio between 0 and 1",
                tip="give the SLO as a ratio, e.g. 0.999 for 99.9 %",
            )
        if not self.pairs:
            raise BadInput(
                "burn rate: no alert pairs",
                tip="leave the pairs out for the defaults (14.4 over 1h/5m, 6 over 6h/30m)",
            )
        if self.min_events is not None and not (_finite(self.min_events) and self.min_events >= 0):
            raise BadInput(
                f"burn rate: min_events {self.min_events!r} is not a number >= 0",
                tip="give the fewest events a window needs to be judged, or leave it out",
            )

    @property
    def budget(self) -> Fraction:
        """The allowed error ratio, 1 − SLO, exactly (0.999 → 1/1000)."""
        return 1 - decimal(self.slo)

    def min_events_for(self, pair: AlertPair) -> float:
        if self.min_events is not None:
            return self.min_events
        return float(math.ceil(1 / (decimal(pair.factor) * self.budget)))


# --- the input ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CounterPoint:
    """Both counters read at one moment: bad events and all events, since the process started."""

    at: float
    bad: float
    total: float


def points_from_samples(
    samples: Sequence[Sample], bad_key: str, total_key: str
) -> list[CounterPoint]:
    """The samples carrying both counters (a missing key or NaN is no data), in their order."""
    points: list[CounterPoint] = []
    for sample in samples:
        bad, total = reading(sample, bad_key), reading(sample, total_key)
        if bad is not None and total is not None:
            points.append(CounterPoint(sample.at, bad, total))
    return points


# --- the result --------------------------------------------------------------------------------
@dataclass(frozen=True)
class WindowBurn:
    """One window as used: its length (capped at the deploy or not) and what it held."""

    nominal_seconds: float
    seconds: float
    start: float
    samples: int
    bad: float
    events: float
    error_ratio: float | None  # None: no events
    burn_rate: float | None

    @property
    def capped(self) -> bool:
        return self.seconds < self.nominal_seconds


@dataclass(frozen=True)
class PairResult:
    pair: AlertPair
    status: PairStatus
    long: WindowBurn
    short: WindowBurn
    min_events: float
    reason: str

    @property
    def fired(self) -> bool:
        return self.status == "fired"


@dataclass(frozen=True)
class BurnRateVerdict:
    status: Verdict
    reason: str
    pairs: tuple[PairResult, ...]
    slo: float
    now: float
    deploy_at: float | None


# --- evaluation --------------------------------------------------------------------------------
def evaluate_burn_rate(
    points: Sequence[CounterPoint],
    policy: BurnRatePolicy,
    *,
    now: float,
    deploy_at: float | None = None,
) -> BurnRateVerdict:
    """Every pair at ``now`` (same clock as ``CounterPoint.at``), and the verdict.

    ``deploy_at``: the moment the new release took traffic; windows never reach before it.
    """
    if not _finite(now):
        raise BadInput(f"burn rate: now {now!r} is not a finite time", tip="pass the clock's time")
    if deploy_at is not None and not (_finite(deploy_at) and deploy_at <= now):
        raise BadInput(
            f"burn rate: deploy time {deploy_at!r} is not a finite time at or before now ({now!r})",
            tip="pass the deploy's timestamp on the same clock as the samples",
        )
    elapsed = math.inf if deploy_at is None else now - deploy_at
    ordered = sorted(
        (p for p in points if _finite(p.at) and _finite(p.bad) and _finite(p.total)),
        key=lambda point: point.at,
    )
    results = tuple(_judge_pair(pair, ordered, now, elapsed, policy) for pair in policy.pairs)
    status, reason = _verdict(results, policy)
    return BurnRateVerdict(status, reason, results, policy.slo, now, deploy_at)


def _measure(
    ordered: Sequence[CounterPoint], now: float, nominal: float, seconds: float, budget: Fraction
) -> WindowBurn:
    start = now - seconds
    inside = [p for p in ordered if start <= p.at <= now]
    bad, events = joint_increases([[p.bad for p in inside], [p.total for p in inside]])
    ratio = bad / events if events > 0 else None
    burn = None if ratio is None else ratio / float(budget)
    return WindowBurn(nominal, seconds, start, len(inside), bad, events, ratio, burn)


def _burns_faster(window: WindowBurn, factor: float, budget: Fraction) -> bool:
    """bad / events > factor × budget, decided exactly (no rounding at the boundary)."""
    return Fraction(window.bad) > decimal(factor) * budget * Fraction(window.events)


def _describe(window: WindowBurn) -> str:
    shown = "no events" if window.burn_rate is None else f"{format_number(window.burn_rate)}×"
    where = f"{format_duration(window.seconds)}"
    if window.capped:
        where += " (since the deploy)"
    return f"{shown} over {where}"


def _judge_pair(
    pair: AlertPair,
    ordered: Sequence[CounterPoint],
    now: float,
    elapsed: float,
    policy: BurnRatePolicy,
) -> PairResult:
    budget = policy.budget
    long = _measure(ordered, now, pair.long_seconds, min(pair.long_seconds, elapsed), budget)
    short = _measure(ordered, now, pair.short_seconds, min(pair.short_seconds, elapsed), budget)
    need = policy.min_events_for(pair)
    limit = f"limit {format_number(pair.factor)}×"
    if elapsed < pair.short_seconds:
        reason = (
            f"{pair.label}: not judged until {format_duration(pair.short_seconds)} after the "
            f"deploy ({format_duration(elapsed)} so far)"
        )
        return PairResult(pair, "not-due", long, short, need, reason)
    thin = [w for w in (long, short) if w.events <= 0 or w.events < need]
    if thin:
        window = thin[-1]
        reason = (
            f"{pair.label}: too little traffic to judge: {format_number(window.events)} events "
            f"in {format_duration(window.seconds)} (needs {format_number(need)})"
        )
        return PairResult(pair, "inconclusive", long, short, need, reason)
    long_hot = _burns_faster(long, pair.factor, budget)
    short_hot = _burns_faster(short, pair.factor, budget)
    both = f"long {_describe(long)}, short {_describe(short)}"
    if long_hot and short_hot:
        reason = f"{pair.label} fired: {both}, both > {limit}"
        return PairResult(pair, "fired", long, short, need, reason)
    if long_hot:
        why = "the short window is not (the errors have stopped or slowed)"
    elif short_hot:
        why = "the long window is not (a short burst)"
    else:
        why = "neither window is"
    reason = f"{pair.label} quiet: {both}; {why} > {limit}"
    return PairResult(pair, "quiet", long, short, need, reason)


def _verdict(results: Sequence[PairResult], policy: BurnRatePolicy) -> tuple[Verdict, str]:
    slo = f"SLO {format_number(float(decimal(policy.slo) * 100))} %"
    fired = [r for r in results if r.status == "fired"]
    if fired:
        return "fail", f"{slo}: error budget burning too fast: " + "; ".join(
            r.reason for r in fired
        )
    due = [r for r in results if r.status != "not-due"]
    listed = "; ".join(r.reason for r in results)
    if not due:
        return "inconclusive", f"{slo}: no alert pair is due yet: {listed}"
    if any(r.status == "inconclusive" for r in due):
        return "inconclusive", f"{slo}: cannot tell: {listed}"
    return "ok", f"{slo}: no alert pair fired: {listed}"


# --- the error budget --------------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorBudget:
    """How much of the error budget the SLO period used; ``spent``: freeze deploys."""

    slo: float
    error_ratio: float | None  # None: no events in the period
    consumed: float  # fraction of the budget used (above 1 when overspent)
    remaining: float  # 1 − consumed (negative when overspent)
    spent: bool  # nothing remains: consumed >= 1
    reason: str


def error_budget_from_counts(slo: float, *, good: float, total: float) -> ErrorBudget:
    """The budget left after ``good`` of ``total`` events over the SLO period were good."""
    _check_slo(slo)
    if not (_finite(good) and _finite(total) and 0 <= good <= total):
        raise BadInput(
            f"error budget: good {good!r} and total {total!r} must be counts with 0 <= good <= total",
            tip="give the good and total event counts over the SLO period (e.g. 30 days)",
        )
    if total == 0:
        return _budget(slo, None)
    return _budget(slo, (Fraction(total) - Fraction(good)) / Fraction(total))


def error_budget_from_ratio(slo: float, error_ratio: float) -> ErrorBudget:
    """The budget left after an error ratio (bad ÷ total, 0..1) over the SLO period."""
    _check_slo(slo)
    if not (_finite(error_ratio) and 0 <= error_ratio <= 1):
        raise BadInput(
            f"error budget: error ratio {error_ratio!r} is not between 0 and 1",
            tip="give the error ratio over the SLO period, e.g. 0.0004 for 0.04 %",
        )
    return _budget(slo, decimal(error_ratio))


def _check_slo(slo: float) -> None:
    BurnRatePolicy(slo=slo)  # one home for the SLO rule


def _budget(slo: float, error_ratio: Fraction | None) -> ErrorBudget:
    allowed = 1 - decimal(slo)
    consumed = Fraction(0) if error_ratio is None else error_ratio / allowed
    spent = consumed >= 1
    percent = f"SLO {format_number(float(decimal(slo) * 100))} %"
    used = f"{format_number(float(consumed * 100))} % of the error budget used"
    if error_ratio is None:
        reason = f"{percent}: no events in the SLO period: nothing of the error budget used"
    elif spent:
        reason = (
            f"{percent}: {format_number(float(error_ratio * 100))} % errors: {used}: "
            "the budget is spent, freeze deploys"
        )
    else:
        reason = (
            f"{percent}: {format_number(float(error_ratio * 100))} % errors: {used}, "
            f"{format_number(float((1 - consumed) * 100))} % remains"
        )
    return ErrorBudget(
        slo=slo,
        error_ratio=None if error_ratio is None else float(error_ratio),
        consumed=float(consumed),
        remaining=float(1 - consumed),
        spent=spent,
        reason=reason,
    )
