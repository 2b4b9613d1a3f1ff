"""One rule for backup and archive names, used by listing, rollback and the actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from dhash_gha.adapters.ghactions import check_backup_name
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.names import backup_name_pattern, is_zip_backup, pre_rollback_pattern
from dhash_gha.errors import BadInput
from dhash_gha.steps.rollback import resolve_backup


@pytest.mark.parametrize(
    ("name", "env", "matches"),
    [
        ("dhash_prod_20260101_120000.zip", "prod", True),
        ("dhash_prod_20260101_120000_01.zip", "prod", True),
        ("dhash_prod_manual_20260101_120000.tar.gz", "prod", True),
        ("dhash_prod_eu_20260101_120000.zip", "prod", False),  # another environment's backup
        ("dhash_prod_eu_20260101_120000.zip", "prod_eu", True),
        ("dhash_prod_latest.zip", "prod", False),
        ("dhash_prod_20260101_120000.zip.sha256", "prod", False),
        ("../dhash_prod_20260101_120000.zip", "prod", False),
    ],
)
def test_one_backup_name_rule(name: str, env: str, matches: bool) -> None:
    assert bool(backup_name_pattern(env).match(name)) is matches


def test_listing_rollback_and_actions_agree_on_another_environments_backup(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    ws.backups_dir.mkdir()
    other = ws.backups_dir / "dhash_prod_eu_20260101_120000.zip"
    other.write_bytes(b"PK")
    assert ws.backups("prod") == []
    assert not is_zip_backup(other.name, "prod")
    with pytest.raises(BadInput, match="not a backup of 'prod'"):
        resolve_backup(ws, "prod", other.name)
    with pytest.raises(BadInput, match="not a backup name of environment 'prod'"):
        check_backup_name("prod", other.name)


def test_pre_rollback_names() -> None:
    assert pre_rollback_pattern("prod").match("pre_rollback_prod_20260101_120000.tar.gz")
    assert not pre_rollback_pattern("prod").match("pre_rollback_prod_eu_20260101_120000.tar.gz")
