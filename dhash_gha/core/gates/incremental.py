"""The gate engine over a growing series, one poll at a time, in O(1) amortised per poll.

Replaying 30 days of 30-second polls would re-scan every gate's window at every
poll with ``evaluate_gates``. ``IncrementalEvaluator`` keeps, per gate, only
what its window needs: a deque of readings, a monotonic deque for the window
maximum, the failure runs in the window, and the first/last counter values
with the reset corrections between them. Its results are identical to
``evaluate_gates`` over the same samples — the same floating-point operations
in the same order (see ``counters``) — which a property-based test checks.

Contract: samples are pushed oldest first, and ``measure``/``evaluate`` are
called with a non-decreasing ``now`` that is not before the newest sample.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from dhash_gha.core.gates.counters import increase_from, ratio_percent
from dhash_gha.core.gates.engine import (
    GateVerdict,
    Measurement,
    baseline_value,
    histogram_restarted,
    histogram_value_ms,
    is_failed_check,
    judge,
    measure,
    reading,
)
from dhash_gha.core.gates.sample import Sample
from dhash_gha.core.gates.spec import GateSpec, format_duration


class _Tracker(Protocol):
    def push(self, sample: Sample) -> None: ...

    def measure(self, now: float) -> Measurement: ...


class _Window:
    """What every windowed tracker shares: the cutoff and the latest source error."""

    def __init__(self, gate: GateSpec) -> None:
        self.gate = gate
        self._last_error: tuple[float, str] | None = None

    def note_error(self, sample: Sample) -> None:
        message = sample.errors.get(self.gate.source)
        if message:
            self._last_error = (sample.at, message)

    def too_few(self, found: int, cutoff: float) -> Measurement:
        gate = self.gate
        why = (
            f"{found} of {gate.min_samples} required sample(s) in the last "
            f"{format_duration(gate.window_seconds)}"
        )
        if self._last_error is not None and self._last_error[0] > cutoff:
            why += f"; {gate.source}: {self._last_error[1]}"
        return Measurement(None, found, why)


class _LatestOnly:
    """Window 0: the gate reads the latest sample alone, exactly as the engine does."""

    def __init__(self, gate: GateSpec) -> None:
        self.gate = gate
        self._latest: Sample | None = None

    def push(self, sample: Sample) -> None:
        self._latest = sample

    def measure(self, now: float) -> Measurement:
        return measure(self.gate, [self._latest] if self._latest is not None else [])


class _KeyTracker(_Window):
    """Gates on one key: latest value (prometheus), window maximum (gauge), failure runs."""

    def __init__(self, gate: GateSpec, key: str) -> None:
        super().__init__(gate)
        self.key = key
        self.readings: deque[tuple[float, float]] = deque()
        self.maxima: deque[tuple[float, float]] = deque()  # values decreasing front to back
        # Failure runs as [first, last] positions among the readings; ``position`` counts pushes.
        self.runs: deque[list[int]] = deque()
        self.position = 0
        self.first_position = 0

    def push(self, sample: Sample) -> None:
        self.note_error(sample)
        value = reading(sample, self.key)
        if value is None:
            return
        self.readings.append((sample.at, value))
        while self.maxima and self.maxima[-1][1] <= value:
            self.maxima.pop()
        self.maxima.append((sample.at, value))
        if is_failed_check(value):
            if self.runs and self.runs[-1][1] == self.position - 1:
                self.runs[-1][1] = self.position
            else:
                self.runs.append([self.position, self.position])
        self.position += 1

    def measure(self, now: float) -> Measurement:
        cutoff = now - self.gate.window_seconds
        readings = self.readings
        while readings and readings[0][0] <= cutoff:
            readings.popleft()
            self.first_position += 1
        while self.maxima and self.maxima[0][0] <= cutoff:
            self.maxima.popleft()
        while self.runs and self.runs[0][1] < self.first_position:
            self.runs.popleft()
        found = len(readings)
        if found < self.gate.min_samples:
            return self.too_few(found, cutoff)
        if self.gate.source == "prometheus":
            return Measurement(readings[-1][1], found)
        if self.gate.kind == "consecutive_failures":
            first = self.first_position
            longest = max((last - max(start, first) + 1 for start, last in self.runs), default=0)
            return Measurement(float(longest), found)
        return Measurement(self.maxima[0][1], found)


class _Counter:
    """One counter's readings in the window and its reset corrections.

    A correction is kept with the time of the value before the drop: it leaves the window
    together with that value, exactly as ``counters.reset_corrections`` over the window's
    values would no longer see it.
    """

    __slots__ = ("corrections", "previous", "values")

    def __init__(self) -> None:
        self.values: deque[tuple[float, float]] = deque()  # (at, value)
        self.corrections: deque[tuple[float, float]] = deque()  # (at before the drop, value)
        self.previous: tuple[float, float] | None = None

    def dropped(self, value: float) -> bool:
        return self.previous is not None and value < self.previous[1]

    def push(self, at: float, value: float, restarted: bool | None = None) -> None:
        """``restarted``: whether the process restarted before ``value`` (default: it dropped)."""
        previous = self.previous
        if restarted is None:
            restarted = self.dropped(value)
        if previous is not None and restarted:
            self.corrections.append(previous)
        self.previous = (at, value)
        self.values.append(self.previous)

    def evict(self, cutoff: float) -> None:
        values = self.values
        while values and values[0][0] <= cutoff:
            values.popleft()
        if not values:
            self.previous = None  # a drop against a value outside the window never counts
            self.corrections.clear()
            return
        corrections = self.corrections
        while corrections and corrections[0][0] <= cutoff:
            corrections.popleft()

    def increase(self) -> float:
        values = self.values
        if len(values) < 2:
            return 0.0
        if not self.corrections:  # the usual case; the same float as increase_from(…, [])
            return values[-1][1] - values[0][1]
        return increase_from(values[0][1], values[-1][1], [value for _, value in self.corrections])


class _RatioTracker(_Window):
    def __init__(self, gate: GateSpec) -> None:
        super().__init__(gate)
        assert gate.numerator is not None and gate.denominator is not None
        self.numerator_key, self.denominator_key = gate.numerator, gate.denominator
        self.numerator = _Counter()
        self.denominator = _Counter()

    def push(self, sample: Sample) -> None:
        self.note_error(sample)
        num = reading(sample, self.numerator_key)
        den = reading(sample, self.denominator_key)
        if num is None or den is None:
            return
        # One process: a restart seen on either counter resets both (as the engine).
        restarted = self.numerator.dropped(num) or self.denominator.dropped(den)
        self.numerator.push(sample.at, num, restarted)
        self.denominator.push(sample.at, den, restarted)

    def measure(self, now: float) -> Measurement:
        cutoff = now - self.gate.window_seconds
        self.numerator.evict(cutoff)
        self.denominator.evict(cutoff)
        found = len(self.numerator.values)
        if found < self.gate.min_samples:
            return self.too_few(found, cutoff)
        ratio = ratio_percent(self.numerator.increase(), self.denominator.increase())
        if ratio is None:
            return Measurement(None, found, f"no increase of {self.denominator_key} in the window")
        return Measurement(ratio, found)


class _HistogramTracker(_Window):
    def __init__(self, gate: GateSpec) -> None:
        super().__init__(gate)
        assert gate.metric is not None and gate.quantile is not None
        self.metric, self.quantile = gate.metric, gate.quantile
        self.times: deque[float] = deque()
        self.buckets: dict[float, _Counter] = {}
        self._prefix = f"{self.metric}_bucket:"
        self._bounds: dict[str, float] = {}  # sample key → parsed upper bound
        self.previous: tuple[float, dict[float, float]] | None = None  # last (at, buckets)

    def _readings(self, sample: Sample) -> dict[float, float]:
        """``bucket_readings`` with the keys' bounds parsed once per key, not once per poll."""
        found: dict[float, float] = {}
        for key, count in sample.values.items():
            bound = self._bounds.get(key)
            if bound is None:
                if not key.startswith(self._prefix):
                    continue
                bound = self._bounds[key] = float(key[len(self._prefix) :])
            found[bound] = count
        return {b: c for b, c in found.items() if not (math.isnan(b) or math.isnan(c))}

    def push(self, sample: Sample) -> None:
        self.note_error(sample)
        buckets = self._readings(sample)
        if not buckets:
            return
        at = sample.at
        self.times.append(at)
        before = self.previous
        restarted = before is not None and histogram_restarted(before[1], buckets)
        for bound, count in buckets.items():
            counter = self.buckets.get(bound)
            if counter is None:
                counter = self.buckets[bound] = _Counter()
            if restarted and before is not None and bound not in before[1]:
                # New since the restart: from 0 at the previous reading, and leaving the
                # window with it, as the engine sees it.
                counter.push(before[0], 0.0)
            counter.push(at, count)
        self.previous = (at, buckets)

    def measure(self, now: float) -> Measurement:
        cutoff = now - self.gate.window_seconds
        times = self.times
        while times and times[0] <= cutoff:
            times.popleft()
        found = len(times)
        increases: dict[float, float] = {}
        gone: list[float] = []
        for bound, counter in self.buckets.items():
            counter.evict(cutoff)
            if counter.values:
                increases[bound] = counter.increase()
            else:
                gone.append(bound)  # a fresh counter gives the same result if it returns
        for bound in gone:
            del self.buckets[bound]
        if found < self.gate.min_samples:
            return self.too_few(found, cutoff)
        value_ms = histogram_value_ms(self.quantile, increases)
        if value_ms is None:
            return Measurement(None, found, f"no observations of {self.metric} in the window")
        return Measurement(value_ms, found)


def measurement_key(gate: GateSpec) -> tuple[object, ...]:
    """What a gate's measurement depends on: not its threshold, action or no-data policy."""
    return (
        gate.kind,
        gate.source,
        gate.value_key,
        gate.metric,
        gate.numerator,
        gate.denominator,
        gate.quantile,
        gate.window_seconds,
        gate.min_samples,
    )


def _tracker_for(gate: GateSpec) -> _Tracker:
    if gate.window_seconds <= 0:
        return _LatestOnly(gate)
    key = gate.value_key
    if key is not None:
        return _KeyTracker(gate, key)
    if gate.kind == "counter_ratio":
        return _RatioTracker(gate)
    return _HistogramTracker(gate)


class IncrementalEvaluator:
    """``evaluate_gates`` for a series that grows one sample at a time."""

    def __init__(self, gates: Sequence[GateSpec]) -> None:
        self.gates = list(gates)
        # Gates that measure the same thing (they may differ in threshold, action or policy,
        # as a candidate config usually does) share one tracker.
        shared: dict[tuple[object, ...], int] = {}
        self._trackers: list[_Tracker] = []
        self._tracker_of: list[int] = []
        for gate in self.gates:
            key = measurement_key(gate)
            if key not in shared:
                shared[key] = len(self._trackers)
                self._trackers.append(_tracker_for(gate))
            self._tracker_of.append(shared[key])
        self._newest: float | None = None
        self._now: float | None = None

    def push(self, sample: Sample) -> None:
        if self._newest is not None and sample.at < self._newest:
            raise ValueError(
                f"samples must be pushed oldest first: {sample.at} after {self._newest}"
            )
        self._newest = sample.at
        for tracker in self._trackers:
            tracker.push(sample)

    def measure(self, now: float) -> list[Measurement]:
        """Each gate's measurement at ``now`` (same order as the gates)."""
        if self._newest is not None and now < self._newest:
            raise ValueError(f"now {now} is before the newest sample {self._newest}")
        if self._now is not None and now < self._now:
            raise ValueError(f"now {now} went back from {self._now}")
        self._now = now
        measured = [tracker.measure(now) for tracker in self._trackers]
        return [measured[index] for index in self._tracker_of]

    def evaluate(self, now: float, baseline: Sample | None = None) -> list[GateVerdict]:
        """Each gate's verdict at ``now``: equal to ``evaluate_gates`` over every pushed sample."""
        measured = self.measure(now)
        return [
            judge(gate, m, baseline_value(gate, baseline) if baseline is not None else None)
            for gate, m in zip(self.gates, measured, strict=True)
        ]
