"""`smoke --output` that cannot be written is bad input, refused before any check runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., tuple[int, str, str]]


@pytest.mark.parametrize("where", ["directory", "under_a_file"])
def test_unwritable_smoke_output_is_bad_input_and_runs_nothing(
    example_workspace: Path, run_cli: Cli, tmp_path: Path, where: str
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    blocker = target / "a_file"
    blocker.write_text("x", encoding="utf-8")
    output = target if where == "directory" else blocker / "smoke.log"
    code, out, err = run_cli(
        "--root", str(example_workspace), "smoke", "--env", "production", "--post-deploy",
        "--output", str(output),
    )  # fmt: skip
    assert code == 2, out + err
    assert "internal error" not in err and "Traceback" not in err
    assert f"error: cannot append the smoke results to --output {output}" in err
    assert "tip: pass --output FILE" in err
    assert sorted(p.name for p in target.iterdir()) == ["a_file"]
    assert not list((example_workspace / "logs").glob("smoke_test_*"))
