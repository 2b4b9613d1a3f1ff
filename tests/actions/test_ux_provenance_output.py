"""`provenance --output` that cannot be written is bad input naming the path, not a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., tuple[int, str, str]]


@pytest.mark.parametrize("where", ["directory", "under_a_file"])
def test_unwritable_output_is_bad_input(
    example_workspace: Path, run_cli: Cli, tmp_path: Path, where: str
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    blocker = target / "a_file"
    blocker.write_text("x", encoding="utf-8")
    output = target if where == "directory" else blocker / "provenance.json"
    code, _, err = run_cli(
        "--root", str(example_workspace), "provenance",
        "--subject", "config/production/dhash.json", "--output", str(output),
    )  # fmt: skip
    assert code == 2, err
    assert "internal error" not in err and "Traceback" not in err
    assert f"error: cannot write the provenance statement to {output}" in err
    assert "tip: " in err and "--output" in err
    assert sorted(p.name for p in target.iterdir()) == ["a_file"]  # nothing half-written
