"""The load generator drives a local service with a bounded mix of images, then stops."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from component_service import SRC, Service, apply_migrations
from dhash_app.load import LoadError, LoadPlan, parse_mix


@pytest.mark.slow
def test_load_run_sends_the_mix_and_moves_the_metrics(example_workspace: Path) -> None:
    apply_migrations(example_workspace, "staging")
    service = Service(example_workspace, "staging")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dhash_app", "load", "--url", service.url,
             "--rate", "40", "--duration", "1.5", "--seed", "3"],
            cwd=SRC, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["planned"] == 60 and report["sent"] == 60 and report["errors"] == 0
        assert set(report["by_kind"]) <= {"known", "near", "new"} and report["by_kind"]["known"] > 0
        assert report["by_result"].get("match", 0) > 0 and report["by_result"].get("new", 0) > 0
        assert report["latency_ms"]["p95"] is not None
        assert report["seconds"] < 10
        metrics = service.metrics()
        assert metrics["dhash_extraction_attempts_total"] >= 60 + 16  # run + the known pool
    finally:
        service.stop()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"url": "http://example.com:8780"}, "a service on this machine"),
        ({"url": "https://127.0.0.1:8780"}, "http://127.0.0.1:PORT"),
        ({"rate": 0}, "--rate"),
        ({"rate": 10_000}, "--rate"),
        ({"duration": 0}, "--duration"),
        ({"duration": 100_000}, "--duration"),
        ({"workers": 0}, "--workers"),
    ],
)
def test_load_plan_refuses_unbounded_or_remote_runs(kwargs: dict[str, object], words: str) -> None:
    params: dict[str, object] = {
        "url": "http://127.0.0.1:8780",
        "rate": 5,
        "duration": 1,
        "mix": {"new": 1.0},
    }
    params.update(kwargs)
    with pytest.raises(LoadError, match="must") as caught:
        LoadPlan(**params)  # type: ignore[arg-type]
    assert words in str(caught.value)


def test_mix_parsing() -> None:
    assert parse_mix("known=0.5,near=0.3,new=0.2") == {"known": 0.5, "near": 0.3, "new": 0.2}
    for bad in ("known=x", "old=1", "new=0", "near=-1,new=2"):
        with pytest.raises(LoadError):
            parse_mix(bad)


def test_load_cli_refuses_a_remote_url_with_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dhash_app", "load", "--url", "http://10.0.0.1:80", "--rate", "1", "--duration", "1"],
        cwd=SRC, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "a service on this machine" in done.stderr
