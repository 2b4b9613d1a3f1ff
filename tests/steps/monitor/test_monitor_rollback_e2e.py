"""End to end against the real example component: a bad release trips a gate and is rolled back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.health import probe
from dhash_gha.adapters.releases import read_release
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def deployed(example_workspace: Path, clean_environ: dict[str, str]) -> Iterator[Path]:
    yield example_workspace
    from dhash_gha.adapters import supervisor

    ws = Workspace.at(example_workspace)
    supervisor.stop(
        ws,
        "production",
        load_env_config(ws, "production"),
        environ=clean_environ,
        clock=SystemClock(),
        reporter=Reporter(clean_environ, quiet=True),
    )


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_queue_flood_release_is_rolled_back_by_the_monitor(
    deployed: Path, run_cli: RunCli, clean_environ: dict[str, str]
) -> None:
    root = str(deployed)
    ws = Workspace.at(deployed)
    code, _, err = run_cli(
        "--root", root, "deploy", "--env", "production", "--no-monitor", environ=clean_environ
    )
    assert code == 0, err
    good = read_release(ws, "production")
    assert good is not None

    config_path = ws.env_config("production")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["component"]["faults"]["queue_flood"] = 1500
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    code, _, err = run_cli(
        "--root", root, "deploy", "--env", "production", "--no-monitor", environ=clean_environ
    )
    assert code == 0, err
    bad = read_release(ws, "production")
    assert bad is not None and bad["release_id"] != good["release_id"]

    code, _, err = run_cli(
        "--root",
        root,
        "monitor",
        "--env",
        "production",
        "--time-scale",
        "600",
        environ=clean_environ,
    )
    assert code == 3, err
    assert "low_confidence_queue" in err

    restored = read_release(ws, "production")
    assert restored is not None and restored["release_id"] == good["release_id"]
    config = json.loads(config_path.read_text(encoding="utf-8"))
    assert config["component"]["faults"]["queue_flood"] == 0
    assert probe(config["health"]["url"], 2.0).ok
    log = next(ws.logs_dir.glob("monitor_production_*.log")).read_text(encoding="utf-8")
    assert "gate.low_confidence_queue=fail" in log
    assert "event=rollback_done" in log and "status=rolled_back" in log
    incidents = list(ws.incidents_dir.glob("INC-*"))
    assert len(incidents) == 1 and (incidents[0] / "report.md").is_file()
    kinds = [
        json.loads(p.read_text(encoding="utf-8")).get("type")
        for p in ws.notifications_dir.glob("*.json")
    ]
    assert "critical" in kinds
