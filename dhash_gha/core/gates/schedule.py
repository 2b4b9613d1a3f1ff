"""The monitoring schedule: when to poll, as seconds from the start of monitoring.

Phases come from config: ``[{"until_minute": 5, "interval_seconds": 30},
{"until_minute": 60, "interval_seconds": 120}]`` polls at 0, 30, …, 300 s, then
every 120 s. The interval in effect at time ``t`` is the one of the first phase
whose end is after ``t``; a poll exactly on a phase boundary already uses the
next phase's interval. The last poll is always at the end of the duration
(clamped), so the monitor's final verdict sees the whole hour. Pure: no I/O,
no clock; resuming a monitor is a question of ``next_poll(elapsed)``.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dhash_gha.errors import ConfigError

# Poll times are compared after rounding away float noise from repeated addition.
_DECIMALS = 6


@dataclass(frozen=True)
class Phase:
    until_seconds: float
    interval_seconds: float


@dataclass(frozen=True)
class Schedule:
    duration_seconds: float
    phases: tuple[Phase, ...]

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> Schedule:
        """From a ``schedule`` object: ``{"duration_minutes": 60, "phases": [...]}``."""
        try:
            duration = float(data["duration_minutes"]) * 60.0
            phases = tuple(
                Phase(float(p["until_minute"]) * 60.0, float(p["interval_seconds"]))
                for p in data["phases"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"schedule: malformed ({type(exc).__name__}: {exc})",
                tip='give "duration_minutes" and "phases": [{"until_minute", "interval_seconds"}]',
            ) from None
        schedule = cls(duration, phases)
        schedule.check()
        return schedule

    def check(self) -> None:
        if self.duration_seconds <= 0:
            raise ConfigError("schedule: duration must be positive", tip="set duration_minutes > 0")
        if not self.phases:
            raise ConfigError("schedule: no phases", tip="add at least one phase")
        ends = [phase.until_seconds for phase in self.phases]
        if any(b <= a for a, b in itertools.pairwise(ends)) or ends[0] <= 0:
            raise ConfigError(
                "schedule: phases must end in increasing until_minute order",
                tip="sort the phases by until_minute",
            )
        if any(phase.interval_seconds <= 0 for phase in self.phases):
            raise ConfigError(
                "schedule: interval_seconds must be positive", tip="use 1 or more seconds"
            )

    def with_duration(self, minutes: float) -> Schedule:
        """The same phases over another duration (``monitor --duration``); the last
        phase's interval continues past its end when the duration is longer."""
        if minutes <= 0:
            raise ConfigError(
                f"duration {minutes} min is not positive", tip="pass --duration MIN with MIN > 0"
            )
        return Schedule(minutes * 60.0, self.phases)

    # --- queries -----------------------------------------------------------------------
    def phase_index(self, t: float) -> int:
        """Index of the phase in effect at ``t`` seconds (the last phase beyond its end)."""
        for index, phase in enumerate(self.phases):
            if t < phase.until_seconds:
                return index
        return len(self.phases) - 1

    def interval_at(self, t: float) -> float:
        """Seconds between the poll at ``t`` and the next one (before clamping to the end)."""
        return self.phases[self.phase_index(t)].interval_seconds

    def poll_times(self) -> list[float]:
        """Every poll, in seconds from the start: 0 first, the duration last."""
        return list(self._times)

    @cached_property
    def _times(self) -> tuple[float, ...]:
        times = [0.0]
        t = 0.0
        while t < self.duration_seconds:
            t = round(min(t + self.interval_at(t), self.duration_seconds), _DECIMALS)
            times.append(t)
        return tuple(times)

    def next_poll(self, elapsed: float) -> float | None:
        """The first poll due at or after ``elapsed`` seconds; None once the schedule is over.

        A monitor that resumes after a restart polls at this time (or at once, when
        it is already past a poll it missed: compare with the last poll it made).
        """
        times = self._times
        index = bisect.bisect_left(times, round(elapsed, _DECIMALS))
        return times[index] if index < len(times) else None

    def polls_done_by(self, elapsed: float) -> int:
        """How many polls are due at or before ``elapsed`` seconds."""
        return bisect.bisect_right(self._times, round(elapsed, _DECIMALS))

    def describe(self) -> list[str]:
        """One line per phase, e.g. 'every 30 s until minute 5'."""
        lines: list[str] = []
        start = 0.0
        for phase in self.phases:
            end = min(phase.until_seconds, self.duration_seconds)
            if start >= self.duration_seconds:
                break
            lines.append(
                f"every {_num(phase.interval_seconds)} s from minute {_num(start / 60)} "
                f"to minute {_num(end / 60)}"
            )
            start = end
        if start < self.duration_seconds:
            lines.append(
                f"every {_num(self.phases[-1].interval_seconds)} s from minute "
                f"{_num(start / 60)} to minute {_num(self.duration_seconds / 60)}"
            )
        return lines


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"
