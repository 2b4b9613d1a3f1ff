"""A quality gate as configured: what it measures, over which window, and what a breach does.

``GateSpec.from_config`` takes one gate object of ``quality-gates-config.json``
(already schema-validated) and adds the semantic checks a schema cannot
express: which metric sources fit which kind, and windows that can never
hold enough samples. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dhash_gha.core.gates.sample import HEALTH_OK, QUEUE_ITEMS, gate_key
from dhash_gha.errors import ConfigError

Kind = Literal["consecutive_failures", "counter_ratio", "histogram_quantile", "gauge"]
Source = Literal["health", "metrics", "queue_files", "prometheus"]
Action = Literal["rollback", "alert", "dry-run"]
NoDataPolicy = Literal["inconclusive", "breach", "ignore"]
BaselineMode = Literal["none", "relative"]

KINDS: tuple[Kind, ...] = ("consecutive_failures", "counter_ratio", "histogram_quantile", "gauge")
ACTIONS: tuple[Action, ...] = ("rollback", "alert", "dry-run")
NO_DATA_POLICIES: tuple[NoDataPolicy, ...] = ("inconclusive", "breach", "ignore")

# Which metric sources can feed which kind of gate ("prometheus" feeds any: the
# PromQL expression computes the value and the gate only compares it).
_SOURCES_FOR_KIND: dict[str, tuple[str, ...]] = {
    "consecutive_failures": ("health", "prometheus"),
    "counter_ratio": ("metrics", "prometheus"),
    "histogram_quantile": ("metrics", "prometheus"),
    "gauge": ("queue_files", "metrics", "prometheus"),
}
_UNIT_FOR_KIND: dict[str, str] = {
    "consecutive_failures": "checks",
    "counter_ratio": "percent",
    "histogram_quantile": "ms",
}
UNIT_SYMBOLS: dict[str, str] = {"checks": "checks", "percent": "%", "ms": "ms", "items": "items"}


@dataclass(frozen=True)
class GateSpec:
    """One gate. It fails when its value is strictly greater than ``threshold``."""

    name: str
    kind: Kind
    source: Source
    threshold: float
    unit: str
    window_seconds: float
    action: Action
    min_samples: int
    no_data: NoDataPolicy
    description: str = ""
    metric: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    quantile: float | None = None
    baseline: BaselineMode = "none"
    promql: str | None = None

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> GateSpec:
        """Build from one gate object; ConfigError names the gate and the fix."""
        spec = cls.parse(data)
        problems = spec.problems()
        if problems:
            message, tip = problems[0]
            raise ConfigError(f"gate '{spec.name}': {message}", tip=tip)
        return spec

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> GateSpec:
        """Build without the semantic checks (``problems()`` lists them all)."""
        name = str(data.get("name", "?"))
        try:
            spec = cls(
                name=name,
                kind=data["kind"],
                source=data["source"],
                threshold=float(data["threshold"]),
                unit=str(data["unit"]),
                window_seconds=float(data["window_seconds"]),
                action=data["action"],
                min_samples=int(data["min_samples"]),
                no_data=data["no_data"],
                description=str(data.get("description", "")),
                metric=data.get("metric"),
                numerator=data.get("numerator"),
                denominator=data.get("denominator"),
                quantile=None if data.get("quantile") is None else float(data["quantile"]),
                baseline=data.get("baseline", "none"),
                promql=data.get("promql"),
            )
        except KeyError as exc:
            raise ConfigError(
                f"gate '{name}': required key {exc.args[0]!r} is missing",
                tip="run 'dhash-gha gates validate' for every problem in the file",
            ) from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"gate '{name}': {exc}",
                tip="run 'dhash-gha gates validate' for every problem in the file",
            ) from None
        return spec

    def problems(self) -> list[tuple[str, str]]:
        """Semantic problems as (message, fix); empty when the gate makes sense."""
        found: list[tuple[str, str]] = []
        if self.kind not in KINDS:
            found.append((f"unknown kind {self.kind!r}", f"use one of {', '.join(KINDS)}"))
            return found
        allowed = _SOURCES_FOR_KIND[self.kind]
        if self.source not in allowed:
            found.append(
                (
                    f"source {self.source!r} cannot feed a {self.kind} gate",
                    f"use source {' or '.join(repr(s) for s in allowed)}",
                )
            )
        if self.action not in ACTIONS:
            found.append((f"unknown action {self.action!r}", f"use one of {', '.join(ACTIONS)}"))
        if self.no_data not in NO_DATA_POLICIES:
            found.append(
                (
                    f"unknown no_data policy {self.no_data!r}",
                    f"use one of {', '.join(NO_DATA_POLICIES)}",
                )
            )
        if self.baseline not in ("none", "relative"):
            found.append((f"unknown baseline {self.baseline!r}", "use 'none' or 'relative'"))
        if self.threshold < 0 or self.window_seconds < 0 or self.min_samples < 1:
            found.append(
                (
                    "threshold and window_seconds must be >= 0 and min_samples >= 1",
                    "fix the numbers in quality-gates-config.json",
                )
            )
        expected_unit = _UNIT_FOR_KIND.get(self.kind)
        if expected_unit and self.unit != expected_unit:
            found.append(
                (
                    f"a {self.kind} gate is measured in {expected_unit!r}, not {self.unit!r}",
                    f'set "unit": "{expected_unit}"',
                )
            )
        if self.source == "prometheus" and not self.promql:
            found.append(("source 'prometheus' needs a 'promql' expression", 'add "promql": "…"'))
        if self.kind == "counter_ratio" and self.source != "prometheus":
            if not (self.numerator and self.denominator):
                found.append(
                    ("a counter_ratio gate needs 'numerator' and 'denominator'", "name both")
                )
            elif self.numerator == self.denominator:
                found.append(
                    ("numerator and denominator are the same counter", "name two counters")
                )
        if self.kind == "histogram_quantile" and self.source != "prometheus":
            if not self.metric:
                found.append(("a histogram_quantile gate needs 'metric'", "name the histogram"))
            if self.quantile is None or not 0 < self.quantile < 1:
                found.append(("'quantile' must be between 0 and 1", 'e.g. "quantile": 0.95'))
        if self.kind == "gauge" and self.source == "metrics" and not self.metric:
            found.append(("a gauge gate fed by 'metrics' needs 'metric'", "name the gauge to read"))
        if self.window_seconds == 0 and self.kind != "gauge" and self.source != "prometheus":
            found.append(
                (
                    f"a {self.kind} gate needs a window (window_seconds > 0)",
                    "only gauge gates read the latest value alone (window_seconds 0)",
                )
            )
        if self.window_seconds == 0 and self.min_samples > 1:
            found.append(
                (
                    f"window_seconds 0 reads only the latest poll, so min_samples "
                    f"{self.min_samples} can never be met",
                    'set "min_samples": 1 or give the gate a window',
                )
            )
        if self.kind == "counter_ratio" and self.source != "prometheus" and self.min_samples < 2:
            found.append(
                (
                    "a counter_ratio gate needs at least 2 samples to see an increase",
                    'set "min_samples": 2 or more',
                )
            )
        return found

    # --- what the gate reads -------------------------------------------------------------
    @property
    def value_key(self) -> str | None:
        """The sample key holding this gate's input, for single-key gates (None otherwise)."""
        if self.source == "prometheus":
            return gate_key(self.name)
        if self.kind == "consecutive_failures":
            return HEALTH_OK
        if self.kind == "gauge":
            return QUEUE_ITEMS if self.source == "queue_files" else self.metric
        return None

    @property
    def relative_to_baseline(self) -> bool:
        return self.baseline == "relative"

    def describe_threshold(self) -> str:
        """'> 5 %' — the operator and the threshold in the gate's unit."""
        return f"> {format_number(self.threshold)} {UNIT_SYMBOLS.get(self.unit, self.unit)}"

    def describe_window(self) -> str:
        if self.window_seconds == 0:
            return "latest poll"
        return format_duration(self.window_seconds)


def load_gate_specs(section: Mapping[str, Any]) -> list[GateSpec]:
    """The gates of one environment's section (``{"schedule": …, "gates": […]}``)."""
    raw = section.get("gates")
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise ConfigError(
            "the gates section has no 'gates' list",
            tip="give the environment at least one gate in quality-gates-config.json",
        )
    specs = [GateSpec.from_config(item) for item in raw]
    names = [spec.name for spec in specs]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(
                f"gate name '{name}' is used twice", tip="give each gate its own name"
            )
    return specs


def gates_sha256(section: Mapping[str, Any]) -> str:
    """A stable fingerprint of an environment's gates section (key order does not matter)."""
    canonical = json.dumps(section, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def format_number(value: float) -> str:
    """12 → '12', 5.5 → '5.5', 2000.123456 → '2000.12'."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def format_duration(seconds: float) -> str:
    if seconds % 60 == 0 and seconds >= 60:
        return f"{int(seconds // 60)} min"
    return f"{format_number(seconds)} s"
