"""Metric sources behind one interface: the component's /metrics, a Prometheus server's
query API, the queue files and the health endpoint. See ``interface`` for the contract."""

from dhash_gha.adapters.sources.interface import (
    MetricSource,
    SourceReading,
    collect_sample,
    combine_readings,
)

__all__ = ["MetricSource", "SourceReading", "collect_sample", "combine_readings"]
