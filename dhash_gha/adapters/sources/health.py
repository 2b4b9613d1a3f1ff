"""The component's health endpoint as a metric: ``health_ok`` 1.0 or 0.0.

A probe that times out, is refused or answers anything but HTTP 200 is a
failed check (0.0) — that is data, not "no data", so a silent, broken
component fails its health gate. The probe's detail is kept as the
reading's error so the poll line says why it failed.
"""

from __future__ import annotations

from collections.abc import Callable

from dhash_gha.adapters.health import HealthProbe, probe
from dhash_gha.adapters.sources.interface import SourceReading
from dhash_gha.core.gates.sample import HEALTH_OK

Prober = Callable[[str, float], HealthProbe]


class HealthSource:
    name = "health"

    def __init__(self, url: str, *, timeout: float = 2.0, prober: Prober = probe) -> None:
        self.url = url
        self.timeout = timeout
        self.prober = prober

    def collect(self) -> SourceReading:
        result = self.prober(self.url, self.timeout)
        if result.ok:
            return SourceReading({HEALTH_OK: 1.0})
        return SourceReading({HEALTH_OK: 0.0}, f"health check failed: {result.detail}")
