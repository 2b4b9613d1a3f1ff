"""Scripted metric sources driven by a FakeClock, and a recorder for the monitor's actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dhash_gha.adapters.sources import SourceReading
from dhash_gha.core.clock import FakeClock
from dhash_gha.core.gates.sample import HEALTH_OK, QUEUE_ITEMS, bucket_key
from dhash_gha.steps.monitor import MonitorActions

HIST = "dhash_hash_duration_seconds"
BOUNDS = (0.1, 0.5, 1.0, 2.5, 5.0, float("inf"))


class ClockSource:
    """A source whose reading is a function of the clock's elapsed seconds."""

    def __init__(self, name: str, clock: FakeClock, read: Callable[[float], SourceReading]) -> None:
        self.name = name
        self.clock = clock
        self.read = read
        self.calls = 0

    def collect(self) -> SourceReading:
        self.calls += 1
        return self.read(self.clock.monotonic())


@dataclass
class World:
    """What the fake component looks like at time t; tests flip these."""

    health_fails_from: float = float("inf")
    slow_from: float = float("inf")  # hash time 3 s per request from here on
    queue_from: float = float("inf")  # 5000 items queued from here on
    metrics_down_from: float = float("inf")

    def health(self, t: float) -> SourceReading:
        if t >= self.health_fails_from:
            return SourceReading({HEALTH_OK: 0.0}, "health check failed: HTTP 503")
        return SourceReading({HEALTH_OK: 1.0})

    def metrics(self, t: float) -> SourceReading:
        if t >= self.metrics_down_from:
            return SourceReading.failed("unreachable: ConnectError: refused")
        fast = 10.0 * t  # requests per second * seconds, all at 0.05 s
        slow = max(0.0, t - self.slow_from) * 10.0
        values = {
            "dhash_extraction_attempts_total": 10.0 * t,
            "dhash_extraction_failures_total": 0.1 * t,
            f"{HIST}_count": fast + slow,
            f"{HIST}_sum": fast * 0.05 + slow * 3.0,
        }
        for bound in BOUNDS:
            values[bucket_key(HIST, bound)] = fast + (slow if bound >= 5.0 else 0.0)
        return SourceReading(values)

    def queue(self, t: float) -> SourceReading:
        return SourceReading({QUEUE_ITEMS: 5000.0 if t >= self.queue_from else 3.0})

    def sources(self, clock: FakeClock) -> list[ClockSource]:
        return [
            ClockSource("health", clock, self.health),
            ClockSource("metrics", clock, self.metrics),
            ClockSource("queue_files", clock, self.queue),
        ]


@dataclass
class Recorder:
    """Stands in for notify / rollback / open_incident and records every call."""

    rollback_error: Exception | None = None
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def notify(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("notify", args, kwargs))

    def rollback(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append(("rollback", args, kwargs))
        if self.rollback_error is not None:
            raise self.rollback_error
        return "rolled back"

    def open_incident(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("open_incident", args, kwargs))

        class Incident:
            id = "INC-20260101-000200"

        return Incident()

    def actions(self) -> MonitorActions:
        return MonitorActions(
            notify=self.notify, rollback=self.rollback, open_incident=self.open_incident
        )

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]
