"""`gates validate|replay --config` given a directory says so, rather than "not found"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Cli = Callable[..., tuple[int, str, str]]


def test_a_directory_as_config_is_named_as_a_directory(
    example_workspace: Path, run_cli: Cli, tmp_path: Path
) -> None:
    code, _, err = run_cli(
        "--root", str(example_workspace), "gates", "validate", "--config", str(tmp_path)
    )
    assert code == 2
    assert f"{tmp_path} is a directory" in err
    assert "not found" not in err
    assert "tip: pass --config" in err
