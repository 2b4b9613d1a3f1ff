"""Every workspace path is defined once; names follow the runbook."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from dhash_gha.adapters.workspace import Workspace, check_env_name
from dhash_gha.errors import BadInput

MOMENT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def test_runbook_names(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    rel = lambda p: p.relative_to(ws.root).as_posix()  # noqa: E731
    assert (
        rel(ws.backup_path("production", MOMENT)) == "backups/dhash_production_20260304_050607.zip"
    )
    assert rel(ws.sidecar(ws.backup_path("production", MOMENT))) == (
        "backups/dhash_production_20260304_050607.zip.sha256"
    )
    assert rel(ws.pre_rollback_archive("production", MOMENT)) == (
        "rollbacks/pre_rollback_production_20260304_050607.tar.gz"
    )
    assert (
        rel(ws.log_file("monitor", "production", MOMENT))
        == "logs/monitor_production_20260304_050607.log"
    )
    assert (
        rel(ws.log_file("smoke_test", "staging", MOMENT))
        == "logs/smoke_test_staging_20260304_050607.log"
    )
    assert rel(ws.service_log("production", MOMENT)) == "logs/dhash_production_20260304.log"
    assert rel(ws.migration_state("production")) == "migrations/production_migration_state.json"
    assert rel(ws.incident_dir(MOMENT)) == "incidents/INC-20260304-050607"
    assert rel(ws.notifications_dir) == "notifications/fallback"
    assert rel(ws.data_dir("production")) == "data/production"
    assert rel(ws.env_config("staging")) == "config/staging/dhash.json"


def test_backups_sorted_newest_first_and_per_environment(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    ws.backups_dir.mkdir()
    for name in [
        "dhash_production_20260101_000000.zip",
        "dhash_production_20260102_000000.zip",
        "dhash_staging_20260103_000000.zip",
        "dhash_production_20260102_000000.zip.sha256",
    ]:
        (ws.backups_dir / name).write_text("x")
    assert [p.name for p in ws.backups("production")] == [
        "dhash_production_20260102_000000.zip",
        "dhash_production_20260101_000000.zip",
    ]


@pytest.mark.parametrize("name", ["", "Production", "../prod", "prod/x", "a" * 40, "prod\\x", "C:"])
def test_environment_names_cannot_escape(name: str) -> None:
    with pytest.raises(BadInput):
        check_env_name(name)


def test_unknown_log_kind_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Workspace.at(tmp_path).log_file("nonsense", "production", MOMENT)


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    file = tmp_path / "f"
    file.write_text("x")
    with pytest.raises(BadInput, match="not a directory"):
        Workspace.at(file)
