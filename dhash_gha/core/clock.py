"""Time, injected: the Clock protocol, a fake for tests, and the timestamp formats.

Pure: nothing here reads the real clock (that is ``dhash_gha.adapters.clock``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (scaled clocks return scaled seconds)."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


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
