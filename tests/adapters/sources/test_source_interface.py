"""Combining readings into a Sample, and the guard against a source that raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from dhash_gha.adapters.sources import SourceReading, collect_sample, combine_readings
from dhash_gha.adapters.sources.factory import build_sources, metrics_for_gates
from dhash_gha.adapters.sources.prometheus_api import PrometheusQuerySource
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import ConfigError


class Fixed:
    def __init__(self, name: str, reading: SourceReading) -> None:
        self.name = name
        self.reading = reading

    def collect(self) -> SourceReading:
        return self.reading


class Exploding:
    name = "broken"

    def collect(self) -> SourceReading:
        raise RuntimeError("bug in a source")


def test_readings_merge_and_errors_are_keyed_by_source() -> None:
    sample = combine_readings(
        12.5,
        {
            "health": SourceReading({"health_ok": 1.0}),
            "metrics": SourceReading.failed("timed out after 2s"),
            "queue_files": SourceReading({"queue_items": 4.0}),
        },
    )
    assert sample.at == 12.5
    assert dict(sample.values) == {"health_ok": 1.0, "queue_items": 4.0}
    assert dict(sample.errors) == {"metrics": "timed out after 2s"}


def test_a_raising_source_becomes_an_error_and_the_poll_goes_on() -> None:
    logged: list[tuple[str, str]] = []
    sample = collect_sample(
        [Exploding(), Fixed("health", SourceReading({"health_ok": 0.0}, "HTTP 503"))],
        at=1.0,
        on_error=lambda source, reason: logged.append((source, reason)),
    )
    assert dict(sample.values) == {"health_ok": 0.0}
    assert sample.errors["broken"] == "source raised RuntimeError: bug in a source"
    assert logged == [
        ("broken", "source raised RuntimeError: bug in a source"),
        ("health", "HTTP 503"),
    ]


GATES = [
    {"name": "h", "source": "health", "kind": "consecutive_failures"},
    {"name": "r", "source": "metrics", "numerator": "f_total", "denominator": "a_total"},
    {"name": "p", "source": "metrics", "metric": "lat_seconds"},
    {"name": "fleet", "source": "prometheus", "promql": "sum(x)"},
]
ENV_CONFIG = {
    "health": {"url": "http://127.0.0.1:1/healthz", "timeout_seconds": 1.5},
    "metrics": {"url": "http://127.0.0.1:1/metrics", "prometheus": {"url_env": "PROM"}},
}


def test_metrics_for_gates_adds_the_hash_time_histogram() -> None:
    assert metrics_for_gates(GATES) == {
        "f_total",
        "a_total",
        "lat_seconds",
        "dhash_hash_duration_seconds",
    }


def test_build_sources_polls_prometheus_only_for_prometheus_gates(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    sources = build_sources(ws, "production", ENV_CONFIG, GATES, {"PROM": "http://p:9090"})
    assert [s.name for s in sources] == ["health", "metrics", "queue_files", "prometheus"]
    prom = sources[-1]
    assert isinstance(prom, PrometheusQuerySource) and prom.queries == {"fleet": "sum(x)"}
    without = build_sources(ws, "production", ENV_CONFIG, GATES[:3], {})
    assert [s.name for s in without] == ["health", "metrics", "queue_files"]
    with pytest.raises(ConfigError, match="PROM"):
        build_sources(ws, "production", ENV_CONFIG, GATES, {})
