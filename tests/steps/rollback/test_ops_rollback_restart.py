"""A component launched while a rollback restores (by an interrupted earlier run) is restarted."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ops_helpers import ENV, stop_all, tune_for_tests

import dhash_gha.steps.rollback as rollback_step
from dhash_gha.adapters import supervisor
from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def test_a_component_started_during_the_restore_is_restarted_on_the_restored_tree(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(
        "--root", str(ws_root), "deploy", "--env", ENV, "--no-monitor", environ=clean_environ
    )
    assert code == 0, out + err
    import dhash_gha.adapters.archive as backup

    real_restore = backup.restore_backup
    launched: list[int] = []

    def restore_then_launch(*args: Any, **kwargs: Any) -> Any:
        result = real_restore(*args, **kwargs)
        ws = Workspace.at(ws_root)
        status = supervisor.start(
            ws, ENV, load_env_config(ws, ENV), environ=clean_environ, clock=SystemClock(),
            reporter=Reporter({}, quiet=True),
        )  # fmt: skip
        launched.append(status.pid or 0)
        return result

    monkeypatch.setattr(rollback_step, "restore_backup", restore_then_launch)
    code, out, err = run_cli(
        "--root", str(ws_root), "rollback", "--env", ENV, "--backup", "latest", "--force",
        environ=clean_environ,
    )  # fmt: skip
    assert code == 0, out + err
    assert "a component started while restoring: restarting it" in err
    ws = Workspace.at(ws_root)
    now = supervisor.status(ws, ENV, load_env_config(ws, ENV), clock=SystemClock())
    assert now.running and now.pid not in launched
    config = json.loads((ws_root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))
    assert httpx.get(config["health"]["url"], timeout=2).status_code == 200
