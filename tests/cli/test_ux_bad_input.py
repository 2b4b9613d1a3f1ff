"""Bad global input at the CLI boundary: named, exit 2, nothing done."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., tuple[int, str, str]]


def test_an_empty_root_is_refused_not_taken_as_the_current_directory(
    example_workspace: Path, run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(example_workspace)  # a workspace the empty --root must not fall back to
    code, out, err = run_cli("--root", "", "backup", "create", "--env", "production")
    assert code == 2, out + err
    assert "--root" in err and "empty" in err
    assert "tip:" in err
    assert not (example_workspace / "backups").exists()
    assert not (example_workspace / "logs").exists()
