"""A deploy that would be monitored refuses a broken gates file before it changes anything."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ops_helpers import ENV, fingerprint, stop_all, tune_for_tests

from dhash_gha.adapters.workspace import Workspace

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def test_deploy_with_an_invalid_gates_file_is_refused_untouched(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    (ws_root / "quality-gates-config.json").write_text("[]\n", encoding="utf-8")
    before = fingerprint(ws_root, skip=("logs/",))
    code, out, err = run_cli("--root", str(ws_root), "deploy", "--env", ENV, environ=clean_environ)
    assert code == 2, out + err
    assert "quality-gates-config.json" in err
    assert fingerprint(ws_root, skip=("logs/",)) == before
    assert not Workspace.at(ws_root).pidfile(ENV).exists()
