"""Fixtures shared by the whole suite: a private copy of the example workspace, and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from workspaces import copy_example_workspace

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "dhash-app"


@pytest.fixture
def example_workspace(tmp_path: Path) -> Path:
    """Path of a fresh copy of the example workspace (ports rewritten to free ones)."""
    return copy_example_workspace(tmp_path / "ws")


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment without GitHub Actions or secrets leaking in from the host."""
    import os

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "DHASH_", "RUNNER_", "GH_"))
    }
    yield env


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``dhash-gha`` in-process: returns (exit code, stdout, stderr)."""
    from dhash_gha.cli import main

    def run(
        *argv: str, environ: dict[str, str] | None = None, clock: object = None
    ) -> tuple[int, str, str]:
        import os

        env = dict(os.environ if environ is None else environ)
        for key in [k for k in env if k.startswith("GITHUB_")]:
            if environ is None:
                env.pop(key)
        code = main(list(argv), environ=env, clock=clock)  # type: ignore[arg-type]
        out, err = capsys.readouterr()
        return code, out, err

    return run
