"""Waiting for the component to become healthy: retries, a deadline, consecutive successes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dhash_gha.adapters.health import HealthProbe, probe
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.core.clock import Clock


@dataclass(frozen=True)
class HealthWait:
    ok: bool
    attempts: int
    consecutive: int
    detail: str
    seconds: float


def wait_healthy(
    config: Mapping[str, Any],
    *,
    clock: Clock,
    reporter: Reporter,
    consecutive: int = 1,
    is_alive: Callable[[], bool] | None = None,
    prober: Callable[[str, float], HealthProbe] = probe,
    announce: bool = True,
) -> HealthWait:
    """Probe ``health.url`` every ``interval_seconds`` until ``consecutive`` OKs in a row.

    Gives up at ``deadline_seconds``, or at once when ``is_alive`` says the process died
    (waiting out the deadline for a dead process only delays the rollback).
    """
    health = config["health"]
    url = str(health["url"])
    timeout = float(health.get("timeout_seconds", 2.0))
    interval = float(health.get("interval_seconds", 1.0))
    deadline = float(health.get("deadline_seconds", 60))
    started = clock.monotonic()
    attempts = in_a_row = 0
    detail = "no probe yet"
    while True:
        if is_alive is not None and not is_alive():
            return HealthWait(
                False,
                attempts,
                in_a_row,
                "the component process exited",
                clock.monotonic() - started,
            )
        result = prober(url, timeout)
        attempts += 1
        detail = result.detail
        in_a_row = in_a_row + 1 if result.ok else 0
        reporter.event(
            "health_probe",
            ok=result.ok,
            detail=result.detail,
            attempt=attempts,
            consecutive=in_a_row,
        )
        if in_a_row >= consecutive:
            if announce:
                reporter.info(
                    f"healthy: {detail} ({in_a_row} consecutive OK, {attempts} probes)",
                    event="healthy",
                )
            return HealthWait(True, attempts, in_a_row, detail, clock.monotonic() - started)
        if clock.monotonic() - started + interval > deadline:
            return HealthWait(
                False,
                attempts,
                in_a_row,
                f"{detail} (deadline {deadline:g}s)",
                clock.monotonic() - started,
            )
        clock.sleep(interval)
