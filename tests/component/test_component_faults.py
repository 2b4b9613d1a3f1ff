"""Each fault knob moves the metric it is meant to (config and environment variables)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from component_service import Service, apply_migrations, image_with_hash

pytestmark = pytest.mark.slow


def _start(ws: Path, environ: dict[str, str] | None = None) -> Service:
    apply_migrations(ws, "staging")
    return Service(ws, "staging", environ or {})


def test_added_latency_moves_the_hash_duration_histogram(example_workspace: Path) -> None:
    service = _start(example_workspace, {"DHASH_FAULT_HASH_LATENCY_MS": "300"})
    try:
        reply = service.post(image_with_hash(0xF0F0))
        assert reply.status_code == 200
        assert reply.json()["hash_time_ms"] >= 300
        m = service.metrics()
        assert m["dhash_hash_duration_seconds_sum"] >= 0.3
        assert m['dhash_hash_duration_seconds_bucket{le="0.25"}'] == 0
        assert m['dhash_hash_duration_seconds_bucket{le="0.5"}'] == 1
        assert "hash_latency_ms=300" in service.health().json()["faults"]
    finally:
        service.stop()


def test_failure_ratio_moves_the_failure_counter(example_workspace: Path) -> None:
    service = _start(example_workspace, {"DHASH_FAULT_EXTRACTION_FAILURE_RATIO": "1.0"})
    try:
        for n in range(3):
            reply = service.post(image_with_hash(n))
            assert reply.status_code == 500
            assert "injected extraction failure" in reply.json()["error"]
        m = service.metrics()
        assert m["dhash_extraction_attempts_total"] == 3
        assert m["dhash_extraction_failures_total"] == 3
        assert service.health().status_code == 200
        assert " ERROR " in service.log_text()
    finally:
        service.stop()


def test_failing_health_from_the_config_file(example_workspace: Path) -> None:
    config_file = example_workspace / "config" / "staging" / "dhash.json"
    config = json.loads(config_file.read_text())
    config["component"]["faults"]["health_failing"] = True
    config_file.write_text(json.dumps(config))
    service = _start(example_workspace)
    try:
        reply = service.health()
        assert reply.status_code == 503
        assert reply.json()["status"] == "degraded"
        assert "health_failing" in reply.json()["reason"]
        assert service.post(image_with_hash(7)).status_code == 200  # hashing still works
    finally:
        service.stop()


def test_environment_overrides_the_config_file(example_workspace: Path) -> None:
    config_file = example_workspace / "config" / "staging" / "dhash.json"
    config = json.loads(config_file.read_text())
    config["component"]["faults"]["health_failing"] = True
    config_file.write_text(json.dumps(config))
    service = _start(example_workspace, {"DHASH_FAULT_HEALTH_FAILING": "false"})
    try:
        assert service.health().status_code == 200
    finally:
        service.stop()


def test_queue_flood_fills_the_queue_once_at_start(example_workspace: Path) -> None:
    service = _start(example_workspace, {"DHASH_FAULT_QUEUE_FLOOD": "1200"})
    try:
        queue = example_workspace / "data" / "staging" / "low_confidence.queue"
        lines = queue.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1200
        assert all(json.loads(line)["fault"] == "queue_flood" for line in lines)
        assert service.metrics()["dhash_low_confidence_queue_depth"] == 1200
        service.post(image_with_hash(99))
        assert service.metrics()["dhash_low_confidence_queue_depth"] == 1200
    finally:
        service.stop()


def test_bad_fault_value_refuses_to_start(example_workspace: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dhash_app",
            "serve",
            "--root",
            str(example_workspace),
            "--env",
            "staging",
        ],
        cwd=example_workspace / "src",
        env={**os.environ, "DHASH_FAULT_EXTRACTION_FAILURE_RATIO": "2"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "DHASH_FAULT_EXTRACTION_FAILURE_RATIO" in done.stderr and "0..1" in done.stderr
