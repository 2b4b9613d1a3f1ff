"""Ctrl-C in the middle of a rollback: exit 130 and a tip whose command finishes the job."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ops_helpers import ENV, stop_all, tune_for_tests

import dhash_gha.steps.rollback as rollback_step
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.workspace import Workspace

pytestmark = pytest.mark.slow
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def test_interrupted_rollback_tips_the_command_that_completes_it(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(ws_root)
    assert (
        run_cli("--root", root, "deploy", "--env", ENV, "--no-monitor", environ=clean_environ)[0]
        == 0
    )

    def interrupted(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(rollback_step, "wait_healthy", interrupted)
        code, _, err = run_cli(
            "--root", root, "rollback", "--env", ENV, "--force", environ=clean_environ
        )
    assert code == 130
    assert f"rollback of '{ENV}' interrupted" in err
    tip = next(line for line in err.splitlines() if line.startswith("tip: run the same command"))
    command = shlex.split(tip.split(": ", 2)[2].split(" (")[0])
    assert command[:2] == ["dhash-gha", "rollback"]
    code, out, err = run_cli("--root", root, *command[1:], environ=clean_environ)
    assert code == 0, out + err
    url = load_env_config(Workspace.at(ws_root), ENV)["health"]["url"]
    assert httpx.get(url, timeout=2).status_code == 200
