"""Ctrl-C in the middle of a deploy: exit 130, a history line, and a tip whose command works."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ops_helpers import ENV, stop_all, tune_for_tests

import dhash_gha.steps.deploy as deploy_step
from dhash_gha.adapters.workspace import Workspace

pytestmark = pytest.mark.slow
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def test_interrupted_deploy_records_it_and_tips_a_rollback_that_works(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(ws_root)
    deploy = ("--root", root, "deploy", "--env", ENV, "--no-monitor")
    assert run_cli(*deploy, environ=clean_environ)[0] == 0
    (ws_root / "src" / "release_note.txt").write_text("the next release\n", encoding="utf-8")

    def interrupted(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(deploy_step, "wait_healthy", interrupted)
        code, _, err = run_cli(*deploy, environ=clean_environ)
    assert code == 130
    assert "interrupted after the running component was stopped" in err
    last = json.loads(Workspace.at(ws_root).deploy_history(ENV).read_text().splitlines()[-1])
    assert last["ok"] is False and last["error"] == "interrupted" and last["stage"] == "switch"
    tip = next(line for line in err.splitlines() if line.startswith("tip: roll back: "))
    command = shlex.split(tip.removeprefix("tip: roll back: ").split(";")[0])
    assert command[:2] == ["dhash-gha", "rollback"]
    code, out, err = run_cli("--root", root, *command[1:], environ=clean_environ)
    assert code == 0, out + err
