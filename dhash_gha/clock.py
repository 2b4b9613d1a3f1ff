"""Time, injected: the system clock for real runs, a scaled one for rehearsals, a fake for tests."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (scaled clocks return scaled seconds)."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ScaledClock:
    """Runs ``scale`` times faster than real time: an hour at scale 60 takes a minute.

    ``now()`` advances in scaled time from the moment the clock was made, so
    timestamps in logs stay consistent with the schedule being compressed.
    """

    def __init__(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._start_wall = datetime.now(timezone.utc)
        self._start_mono = time.monotonic()

    def now(self) -> datetime:
        return self._start_wall + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        return (time.monotonic() - self._start_mono) * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)


class FakeClock:
    """A clock that only moves when slept on or advanced: an hour of monitoring runs instantly."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds


def utc_stamp(moment: datetime) -> str:
    """The workspace's timestamp format, ``YYYYmmdd_HHMMSS`` in UTC."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%d_%H%M%S")


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
