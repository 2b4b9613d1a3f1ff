"""The Prometheus source against a real Prometheus server scraping a metrics endpoint every second.

Skipped, with the reason, when the ``prometheus`` binary is not installed
(Debian/Ubuntu: ``apt-get install prometheus``; CI installs it).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import prometheus_client as pc
import pytest

from dhash_gha.adapters.sources.prometheus_api import PrometheusQuerySource

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PROMETHEUS is None,
        reason="the prometheus binary is not installed (apt-get install prometheus)",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def component_metrics() -> Iterator[tuple[int, dict[str, Any]]]:
    """A prometheus-client endpoint with the component's metric names."""
    registry = pc.CollectorRegistry()
    metrics: dict[str, Any] = {
        "attempts": pc.Counter("dhash_extraction_attempts", "a", registry=registry),
        "failures": pc.Counter("dhash_extraction_failures", "f", registry=registry),
        "queue": pc.Gauge("dhash_low_confidence_queue_depth", "q", registry=registry),
    }
    # Set before Prometheus starts, so its first scrape already sees them.
    metrics["attempts"].inc(100)
    metrics["failures"].inc(10)
    metrics["queue"].set(1234)
    port = free_port()
    server, thread = pc.start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        yield port, metrics
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, component_metrics: tuple[int, dict[str, Any]]
) -> Iterator[str]:
    """One server for the module's tests (starting one takes a few seconds)."""
    tmp_path = tmp_path_factory.mktemp("prometheus")
    target_port, _ = component_metrics
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: dhash\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target_port}']\n",
        encoding="utf-8",
    )
    port = free_port()
    assert PROMETHEUS is not None
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log = (tmp_path / "prometheus.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"prometheus did not become ready:\n{log}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(source: PrometheusQuerySource, key: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    reading = source.collect()
    while key not in reading.values and time.monotonic() < deadline:
        time.sleep(0.5)
        reading = source.collect()
    return reading


@pytest.mark.timeout(90)
def test_gate_values_come_from_the_servers_promql(
    prometheus: str, component_metrics: tuple[int, dict[str, Any]]
) -> None:
    _, metrics = component_metrics
    source = PrometheusQuerySource(
        prometheus,
        {
            "low_confidence_queue": "sum(dhash_low_confidence_queue_depth)",
            "extraction_failure_rate": "100 * sum(increase(dhash_extraction_failures_total[1m]))"
            " / sum(increase(dhash_extraction_attempts_total[1m]))",
            "typo": "sum(dhash_no_such_metric)",
        },
    )
    reading = wait_for(source, "gate:low_confidence_queue")
    assert reading.values["gate:low_confidence_queue"] == 1234.0
    assert reading.error is not None and "typo: no series matched" in reading.error
    # The ratio needs two scrapes with an increase between them: add 50 attempts, 20 failures.
    time.sleep(1.5)
    metrics["attempts"].inc(50)
    metrics["failures"].inc(20)
    deadline = time.monotonic() + 20
    value = None
    while time.monotonic() < deadline:
        value = source.collect().values.get("gate:extraction_failure_rate")
        if value is not None and value == pytest.approx(40.0, rel=1e-6):
            break
        time.sleep(0.5)
    assert value == pytest.approx(40.0, rel=1e-6)


@pytest.mark.timeout(90)
def test_bad_promql_is_no_data_with_the_servers_reason(prometheus: str) -> None:
    reading = PrometheusQuerySource(prometheus, {"broken": "sum(("}).collect()
    assert reading.values == {}
    assert reading.error is not None and "bad_data" in reading.error


@pytest.mark.timeout(90)
def test_a_monitor_with_a_prometheus_gate_rolls_back_on_the_servers_value(
    prometheus: str, example_workspace: Path
) -> None:
    import io
    import json

    from dhash_gha.adapters.reporter import Reporter
    from dhash_gha.adapters.workspace import Workspace
    from dhash_gha.core.clock import FakeClock
    from dhash_gha.steps.monitor import MonitorActions, MonitorRolledBack, run_monitor

    ws = Workspace.at(example_workspace)
    config = json.loads(ws.gates_config.read_text(encoding="utf-8"))
    config["environments"]["production"]["gates"] = [
        {
            "name": "fleet_queue",
            "kind": "gauge",
            "source": "prometheus",
            "promql": "sum(dhash_low_confidence_queue_depth)",
            "threshold": 1000,
            "unit": "items",
            "window_seconds": 0,
            "action": "rollback",
            "min_samples": 1,
            "no_data": "inconclusive",
        }
    ]
    ws.gates_config.write_text(json.dumps(config), encoding="utf-8")
    wait_for(PrometheusQuerySource(prometheus, {"q": "sum(dhash_low_confidence_queue_depth)"}),
             "gate:q")  # fmt: skip
    calls: list[str] = []

    def record(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> None:
            calls.append(name)

        return call

    clock = FakeClock()
    reporter = Reporter({}, stream=io.StringIO(), err_stream=io.StringIO(), clock=clock)
    with pytest.raises(MonitorRolledBack) as info:
        run_monitor(
            ws, "production", environ={"DHASH_PROMETHEUS_URL": prometheus}, clock=clock,
            reporter=reporter, duration_minutes=1,
            actions=MonitorActions(record("notify"), record("rollback"), record("incident")),
        )  # fmt: skip
    trip = info.value.result.trips[0]
    assert (trip.gate, trip.value, trip.poll) == ("fleet_queue", 1234.0, 1)
    assert calls == ["notify", "rollback", "incident"]
    log = info.value.result.log_path.read_text(encoding="utf-8")
    assert "m.gate:fleet_queue=1234.0" in log
