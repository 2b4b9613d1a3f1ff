"""The /metrics source against a real HTTP server serving prometheus-client output."""

from __future__ import annotations

import math
import socket
from typing import Any

import prometheus_client as pc
import pytest

from dhash_gha.adapters.sources.component_metrics import ComponentMetricsSource, parse_families
from dhash_gha.core.gates.sample import bucket_key

WANTED = {
    "dhash_extraction_attempts_total",
    "dhash_extraction_failures_total",
    "dhash_hash_duration_seconds",
}


def component_registry() -> pc.CollectorRegistry:
    """The component's metrics with two label sets per counter, as a fleet of workers would have."""
    registry = pc.CollectorRegistry()
    attempts = pc.Counter("dhash_extraction_attempts", "a", ["kind"], registry=registry)
    failures = pc.Counter("dhash_extraction_failures", "f", ["kind"], registry=registry)
    hist = pc.Histogram(
        "dhash_hash_duration_seconds", "h", ["kind"], buckets=(0.1, 0.5, 2.0), registry=registry
    )
    pc.Gauge("dhash_low_confidence_queue_depth", "q", registry=registry).set(7)
    pc.Info("dhash_build", "b", registry=registry).info({"version": "1.2.3"})
    attempts.labels("image").inc(40)
    attempts.labels("video").inc(60)
    failures.labels("image").inc(1)
    failures.labels("video").inc(4)
    for value in (0.05, 0.3, 0.3, 1.0):
        hist.labels("image").observe(value)
    for value in (0.3, 5.0):
        hist.labels("video").observe(value)
    return registry


def serve_metrics(server: Any, registry: pc.CollectorRegistry) -> None:
    server.answer.body = pc.generate_latest(registry).decode("utf-8")


def test_counters_are_summed_over_label_sets_and_buckets_grouped_by_le(
    scripted_server: Any,
) -> None:
    serve_metrics(scripted_server, component_registry())
    source = ComponentMetricsSource(f"{scripted_server.url}/metrics", metrics=WANTED)
    reading = source.collect()
    assert reading.error is None
    values = reading.values
    assert values["dhash_extraction_attempts_total"] == 100.0
    assert values["dhash_extraction_failures_total"] == 5.0
    name = "dhash_hash_duration_seconds"
    assert values[bucket_key(name, 0.1)] == 1.0
    assert values[bucket_key(name, 0.5)] == 4.0
    assert values[bucket_key(name, 2.0)] == 5.0
    assert values[bucket_key(name, math.inf)] == 6.0
    assert values[f"{name}_count"] == 6.0
    assert values[f"{name}_sum"] == pytest.approx(6.95)
    # Only what the gates need is kept: no *_created timestamps, no queue gauge, no info.
    assert not any("created" in key or "queue" in key or "build" in key for key in values)


def test_without_a_filter_every_number_is_kept_except_created_timestamps(
    scripted_server: Any,
) -> None:
    serve_metrics(scripted_server, component_registry())
    reading = ComponentMetricsSource(f"{scripted_server.url}/metrics").collect()
    assert reading.error is None
    assert reading.values["dhash_low_confidence_queue_depth"] == 7.0
    assert reading.values["dhash_build_info"] == 1.0
    assert not any(key.endswith("_created") for key in reading.values)


def test_missing_metrics_are_named_and_present_ones_kept(scripted_server: Any) -> None:
    registry = pc.CollectorRegistry()
    pc.Counter("dhash_extraction_attempts", "a", registry=registry).inc(3)
    serve_metrics(scripted_server, registry)
    reading = ComponentMetricsSource(f"{scripted_server.url}/m", metrics=WANTED).collect()
    assert reading.values == {"dhash_extraction_attempts_total": 3.0}
    assert reading.error is not None
    assert "dhash_extraction_failures_total" in reading.error
    assert "dhash_hash_duration_seconds" in reading.error


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>502 Bad Gateway</body></html>",
        '{"status": "ok"}',
        'dhash_hash_duration_seconds_bucket{le="fast"} 3\n# TYPE x histogram\n',
        "metric_without_value\n",
    ],
)
def test_garbage_is_no_data_with_the_reason(scripted_server: Any, body: str) -> None:
    scripted_server.answer.body = body
    reading = ComponentMetricsSource(f"{scripted_server.url}/metrics", metrics=WANTED).collect()
    assert reading.values == {}
    assert reading.error


def test_text_that_parses_but_holds_none_of_the_metrics_is_no_data(scripted_server: Any) -> None:
    scripted_server.answer.body = "something_else 1\n"
    reading = ComponentMetricsSource(f"{scripted_server.url}/metrics", metrics=WANTED).collect()
    assert reading.values == {}
    assert reading.error is not None and "none of the expected metrics" in reading.error


def test_histogram_bucket_with_a_non_numeric_le_is_garbage() -> None:
    text = '# TYPE h histogram\nh_bucket{le="fast"} 1\nh_count 1\nh_sum 1\n'
    families = parse_families(text)
    from dhash_gha.adapters.sources.component_metrics import flatten_families

    with pytest.raises(ValueError, match="le"):
        flatten_families(families)


def test_http_500_is_no_data(scripted_server: Any) -> None:
    scripted_server.answer.status = 500
    scripted_server.answer.body = "internal error"
    reading = ComponentMetricsSource(f"{scripted_server.url}/metrics").collect()
    assert reading.values == {}
    assert reading.error is not None and "HTTP 500" in reading.error


def test_timeout_is_no_data(scripted_server: Any) -> None:
    scripted_server.answer.delay = 1.0
    reading = ComponentMetricsSource(f"{scripted_server.url}/metrics", timeout=0.2).collect()
    assert reading.values == {}
    assert reading.error is not None and "timed out" in reading.error


def test_connection_refused_is_no_data() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reading = ComponentMetricsSource(f"http://127.0.0.1:{port}/metrics", timeout=1).collect()
    assert reading.values == {}
    assert reading.error is not None and "unreachable" in reading.error


def test_a_server_trickling_its_answer_is_cut_at_the_timeout(trickle_server: str) -> None:
    """httpx's timeout bounds each read, not the request: a byte every 0.1 s never trips it."""
    import time

    started = time.monotonic()
    reading = ComponentMetricsSource(f"{trickle_server}/metrics", timeout=0.5).collect()
    took = time.monotonic() - started
    assert reading.values == {}
    assert reading.error is not None and "timed out" in reading.error
    assert took < 2.0, f"the scrape took {took:.1f} s with a 0.5 s timeout"
