"""`status` must not report a killed or interrupted monitor as one that is still watching."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from dhash_gha.adapters.workspace import Workspace
from dhash_gha.steps.status import monitor_summary

ENV = "production"
Cli = Callable[..., tuple[int, str, str]]


def _unfinished_run(ws: Workspace) -> Path:
    path = ws.monitor_state(ENV)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"run_id": "20260101_000000-abcdef", "status": "running", "samples": [{}, {}]}
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


def test_an_unfinished_run_with_no_monitor_says_so_and_how_to_resume(
    example_workspace: Path, run_cli: Cli
) -> None:
    ws = Workspace.at(example_workspace)
    _unfinished_run(ws)
    line = monitor_summary(ws, ENV)
    assert "20260101_000000-abcdef" in line and "2 polls" in line
    assert "no monitor is running" in line
    assert f"dhash-gha monitor --env {ENV}" in line
    _code, out, _ = run_cli("--root", str(example_workspace), "status", "--env", ENV)
    assert "no monitor is running" in out


def test_a_run_whose_monitor_holds_the_lock_is_running(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    path = _unfinished_run(ws)
    with FileLock(str(path.with_name(path.name + ".lock"))):
        line = monitor_summary(ws, ENV)
    assert "run 20260101_000000-abcdef running" in line
    assert "no monitor is running" not in line
