"""Which sources an environment's monitor polls, from its config and its gates.

Health, the component's /metrics and the queue files are always polled (the
poll line records every metric, whatever the gates use). The Prometheus API
is polled only when a gate says ``"source": "prometheus"``; its URL comes
from the environment variable named by ``metrics.prometheus.url_env``, and a
missing one is a configuration error before monitoring starts, not an hour of
"no data".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dhash_gha.adapters.sources.component_metrics import ComponentMetricsSource
from dhash_gha.adapters.sources.health import HealthSource
from dhash_gha.adapters.sources.interface import MetricSource
from dhash_gha.adapters.sources.prometheus_api import PrometheusQuerySource
from dhash_gha.adapters.sources.queue_files import QueueFilesSource
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import ConfigError

# The hash-time histogram is always scraped: the poll line's hash_time_p95_ms comes from it.
HASH_TIME_HISTOGRAM = "dhash_hash_duration_seconds"
DEFAULT_PROMETHEUS_URL_ENV = "DHASH_PROMETHEUS_URL"


def metrics_for_gates(gates: Sequence[Mapping[str, Any]]) -> set[str]:
    """Metric names the ``metrics``-source gates read, plus the hash-time histogram."""
    names = {HASH_TIME_HISTOGRAM}
    for gate in gates:
        if gate.get("source") == "metrics":
            names |= {gate[key] for key in ("metric", "numerator", "denominator") if key in gate}
    return names


def prometheus_url(env_config: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, str]:
    """(variable name, URL) of the Prometheus server, or ConfigError when the variable is unset."""
    variable = str(
        env_config.get("metrics", {}).get("prometheus", {}).get("url_env")
        or DEFAULT_PROMETHEUS_URL_ENV
    )
    url = environ.get(variable, "").strip()
    if not url:
        raise ConfigError(
            f"a gate uses the prometheus source but the environment variable {variable} is unset",
            tip=f"export {variable}=http://HOST:9090 (the Prometheus server that scrapes the fleet)",
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{variable}={url!r} is not an http(s) URL",
            tip=f"set {variable} to the server's root, e.g. http://prometheus:9090",
        )
    return variable, url


def build_sources(
    ws: Workspace,
    env: str,
    env_config: Mapping[str, Any],
    gates: Sequence[Mapping[str, Any]],
    environ: Mapping[str, str],
) -> list[MetricSource]:
    """The sources for one environment (raises ConfigError before any poll when misconfigured)."""
    health = env_config["health"]
    metrics = env_config["metrics"]
    sources: list[MetricSource] = [
        HealthSource(health["url"], timeout=float(health.get("timeout_seconds", 2.0))),
        ComponentMetricsSource(
            metrics["url"],
            timeout=float(metrics.get("timeout_seconds", 2.0)),
            metrics=metrics_for_gates(gates),
        ),
        QueueFilesSource(lambda: ws.queue_files(env)),
    ]
    queries = {
        str(gate["name"]): str(gate["promql"])
        for gate in gates
        if gate.get("source") == "prometheus"
    }
    if queries:
        _, url = prometheus_url(env_config, environ)
        sources.append(
            PrometheusQuerySource(url, queries, timeout=float(metrics.get("timeout_seconds", 5.0)))
        )
    return sources
