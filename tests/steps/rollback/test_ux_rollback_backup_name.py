"""`rollback --backup` takes a backup's name as `backup list` prints it, not only its path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import BadInput
from dhash_gha.steps.rollback import resolve_backup

ENV = "production"
Cli = Callable[..., tuple[int, str, str]]


def test_a_bare_name_is_looked_up_in_backups_and_rollbacks(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    ws.backups_dir.mkdir()
    ws.rollbacks_dir.mkdir()
    backup = ws.backups_dir / "dhash_production_20260101_000000.zip"
    archive = ws.rollbacks_dir / "pre_rollback_production_20260101_000000.tar.gz"
    backup.write_bytes(b"PK")
    archive.write_bytes(b"\x1f\x8b")
    assert resolve_backup(ws, ENV, backup.name) == backup.resolve()
    assert resolve_backup(ws, ENV, archive.name) == archive.resolve()
    with pytest.raises(BadInput, match="is not a backup of 'production'"):
        resolve_backup(ws, ENV, "dhash_staging_20260101_000000.zip")
    with pytest.raises(BadInput, match="does not exist"):
        resolve_backup(ws, ENV, "dhash_production_20260102_000000.zip")


def test_rollback_plan_accepts_the_name_backup_list_prints(
    example_workspace: Path, run_cli: Cli
) -> None:
    root = str(example_workspace)
    assert run_cli("--root", root, "backup", "create", "--env", ENV)[0] == 0
    code, out, _ = run_cli("--root", root, "backup", "list", "--env", ENV)
    assert code == 0
    name = out.splitlines()[1].split()[0]
    assert name.startswith(f"dhash_{ENV}_") and name.endswith(".zip")
    code, out, err = run_cli(
        "--root", root, "rollback", "--env", ENV, "--backup", name, "--dry-run"
    )
    assert code == 0, out + err
    assert f"backups/{name}" in out
