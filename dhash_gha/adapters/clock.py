"""The real clocks: the system's, and a scaled one for rehearsals (``--time-scale``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


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
