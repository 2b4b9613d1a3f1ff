"""Fault injection settings, for rehearsals and tests (pure logic).

A "bad release" is this same component with faults switched on. Settings come
from the config's ``component.faults`` and are overridden by environment
variables (the variable wins when set and non-empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV_LATENCY = "DHASH_FAULT_HASH_LATENCY_MS"
ENV_FAILURE_RATIO = "DHASH_FAULT_EXTRACTION_FAILURE_RATIO"
ENV_HEALTH_FAILING = "DHASH_FAULT_HEALTH_FAILING"
ENV_QUEUE_FLOOD = "DHASH_FAULT_QUEUE_FLOOD"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class FaultConfigError(ValueError):
    """A fault setting has a value that cannot be used."""


@dataclass(frozen=True)
class Faults:
    hash_latency_ms: float = 0.0
    extraction_failure_ratio: float = 0.0
    health_failing: bool = False
    queue_flood: int = 0  # items appended to the queue once, when the service starts

    @property
    def active(self) -> list[str]:
        names = []
        if self.hash_latency_ms > 0:
            names.append(f"hash_latency_ms={self.hash_latency_ms:g}")
        if self.extraction_failure_ratio > 0:
            names.append(f"extraction_failure_ratio={self.extraction_failure_ratio:g}")
        if self.health_failing:
            names.append("health_failing=true")
        if self.queue_flood > 0:
            names.append(f"queue_flood={self.queue_flood}")
        return names


def faults_from(config: Mapping[str, Any], environ: Mapping[str, str]) -> Faults:
    """Merge ``component.faults`` with the DHASH_FAULT_* variables (variables win)."""
    latency = _number(config.get("hash_latency_ms", 0), "component.faults.hash_latency_ms")
    ratio = _number(
        config.get("extraction_failure_ratio", 0), "component.faults.extraction_failure_ratio"
    )
    failing = bool(config.get("health_failing", False))
    flood = int(_number(config.get("queue_flood", 0), "component.faults.queue_flood"))
    if environ.get(ENV_LATENCY, "").strip():
        latency = _number(environ[ENV_LATENCY], ENV_LATENCY)
    if environ.get(ENV_FAILURE_RATIO, "").strip():
        ratio = _number(environ[ENV_FAILURE_RATIO], ENV_FAILURE_RATIO)
    if environ.get(ENV_HEALTH_FAILING, "").strip():
        failing = _flag(environ[ENV_HEALTH_FAILING], ENV_HEALTH_FAILING)
    if environ.get(ENV_QUEUE_FLOOD, "").strip():
        flood = int(_number(environ[ENV_QUEUE_FLOOD], ENV_QUEUE_FLOOD))
    if latency < 0:
        raise FaultConfigError(f"{ENV_LATENCY} / hash_latency_ms must be >= 0, got {latency:g}")
    if not 0.0 <= ratio <= 1.0:
        raise FaultConfigError(
            f"{ENV_FAILURE_RATIO} / extraction_failure_ratio must be within 0..1, got {ratio:g}"
        )
    if flood < 0:
        raise FaultConfigError(f"{ENV_QUEUE_FLOOD} / queue_flood must be >= 0, got {flood}")
    return Faults(latency, ratio, failing, flood)


def _number(value: object, name: str) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FaultConfigError(f"{name} must be a number, got {value!r}") from None


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FaultConfigError(f"{name} must be true/false (or 1/0), got {value!r}")
