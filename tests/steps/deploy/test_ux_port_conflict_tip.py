"""A deploy whose port is taken by another process tells the operator to free the port."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ops_helpers import ENV, stop_all, tune_for_tests

pytestmark = pytest.mark.slow
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def test_first_deploy_on_a_taken_port_gives_the_port_fix_not_a_release_fix(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    config = json.loads((ws_root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))
    port = int(config["component"]["port"])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        code, _, err = run_cli(
            "--root", str(ws_root), "deploy", "--env", ENV, "--no-monitor", environ=clean_environ
        )
    assert code == 1
    assert f"127.0.0.1:{port} is already in use by another process" in err
    tips = [line for line in err.splitlines() if line.startswith("tip:")]
    assert tips, err
    assert "change component.port" in tips[-1]
    assert "fix the release" not in tips[-1]
