"""Safety contracts under hostile configurations: audit records survive, nothing half-written."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from backup_helpers import START, quiet_reporter, small_workspace

from dhash_gha.adapters.archive import create_backup, restore_backup
from dhash_gha.core.clock import FakeClock
from dhash_gha.errors import BadInput


@pytest.mark.parametrize(
    "item",
    [
        "logs",
        "notifications",
        "notifications/fallback",
        "incidents",
        ".dhash-state",
        ".dhash-state/production",
        "backups",
        "rollbacks",
        "migrations",
        "data/production",
        ".dhash-restore-20260301_120000",
    ],
)
def test_include_of_an_audit_or_tool_directory_is_refused(tmp_path: Path, item: str) -> None:
    # A restore swaps every include item wholesale: listing one of these would let a
    # rollback erase logs, notifications, incidents, deploy history or the backups themselves.
    ws = small_workspace(tmp_path / "ws", backup_section={"include": ["src", item]})
    (ws.root / item).mkdir(parents=True)
    (ws.root / item / "record.txt").write_text("audit\n", encoding="utf-8")
    clock = FakeClock(START)
    with pytest.raises(BadInput, match=item.split("/")[0]) as caught:
        create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock))
    assert caught.value.tip
    assert not ws.backups_dir.exists() or not list(ws.backups_dir.glob("dhash_*"))


def test_restore_never_erases_a_record_written_after_the_backup(tmp_path: Path) -> None:
    # Back up with a sound config, then point include at logs/: the restore is refused
    # before anything is moved, so the newer log survives.
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    made = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path
    small_workspace_config = ws.root / "config" / "production" / "dhash.json"
    text = small_workspace_config.read_text(encoding="utf-8")
    small_workspace_config.write_text(
        text.replace('"deployments"', '"deployments", "logs"', 1), encoding="utf-8"
    )
    (ws.logs_dir).mkdir(exist_ok=True)
    (ws.logs_dir / "deploy_production_20260301_130000.log").write_text("x\n", encoding="utf-8")
    with pytest.raises(BadInput, match="logs"):
        restore_backup(ws, "production", made, clock=clock, reporter=quiet_reporter(clock))
    assert (ws.logs_dir / "deploy_production_20260301_130000.log").exists()
    assert not ws.rollbacks_dir.exists()


def test_restore_over_a_symlinked_src_leaves_the_link_target_alone(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    made = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep me\n", encoding="utf-8")
    shutil.rmtree(ws.root / "src")
    (ws.root / "src").symlink_to(elsewhere, target_is_directory=True)
    restore_backup(ws, "production", made, clock=clock, reporter=quiet_reporter(clock))
    assert (elsewhere / "precious.txt").read_text(encoding="utf-8") == "keep me\n"
    assert not (ws.root / "src").is_symlink()
    assert (ws.root / "src" / "dhash_app" / "__init__.py").exists()


def test_a_symlink_posing_as_stale_staging_is_not_followed(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    made = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep me\n", encoding="utf-8")
    (ws.root / ".dhash-restore-20200101_000000").symlink_to(elsewhere, target_is_directory=True)
    mode = stat.S_IMODE(ws.root.stat().st_mode)
    restore_backup(ws, "production", made, clock=clock, reporter=quiet_reporter(clock))
    assert (elsewhere / "precious.txt").exists()
    assert stat.S_IMODE(ws.root.stat().st_mode) == mode


def test_an_include_item_that_is_a_file_round_trips(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws", backup_section={"include": ["src", "VERSION"]})
    (ws.root / "VERSION").write_text("1.0\n", encoding="utf-8")
    clock = FakeClock(START)
    made = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path
    (ws.root / "VERSION").write_text("2.0\n", encoding="utf-8")
    restore_backup(ws, "production", made, clock=clock, reporter=quiet_reporter(clock))
    assert (ws.root / "VERSION").read_text(encoding="utf-8") == "1.0\n"
    (ws.root / "VERSION").unlink()
    (ws.root / "VERSION").mkdir()
    (ws.root / "VERSION" / "x").write_text("dir now\n", encoding="utf-8")
    restore_backup(ws, "production", made, clock=clock, reporter=quiet_reporter(clock))
    assert (ws.root / "VERSION").read_text(encoding="utf-8") == "1.0\n"


def test_interrupted_restore_completes_even_after_the_config_changed(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    made = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path
    (ws.root / "src" / "dhash_app" / "__init__.py").write_text("VERSION = 'B'\n")

    def crash(step: str) -> None:
        if step == "out:config":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        restore_backup(
            ws, "production", made, clock=clock, reporter=quiet_reporter(clock), fault=crash
        )
    assert not (ws.root / "config").exists()  # between its two renames
    restore_backup(ws, "production", made, clock=clock, reporter=quiet_reporter(clock))
    assert (ws.root / "src" / "dhash_app" / "__init__.py").read_text() == "VERSION = 'A'\n"
    assert not ws.restore_journal.exists()
    assert not list(ws.root.glob(".dhash-restore-*"))


def test_restoring_one_environment_leaves_another_environments_deployment_alone(
    tmp_path: Path,
) -> None:
    # deployments/ holds every environment's release record and pid file; rolling back
    # production must not revert staging's release or lose the pid of its running process.
    ws = small_workspace(tmp_path / "ws")
    staging = ws.deployment_dir("staging")
    staging.mkdir()
    (staging / "current_release.json").write_text('{"release_id": "s1"}\n', encoding="utf-8")
    clock = FakeClock(START)
    made = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path
    (staging / "current_release.json").write_text('{"release_id": "s2"}\n', encoding="utf-8")
    (staging / "dhash.pid").write_text("4242\n", encoding="utf-8")
    (ws.release_record("production")).write_text('{"release_id": "r2"}\n', encoding="utf-8")
    restore_backup(ws, "production", made, clock=clock, reporter=quiet_reporter(clock))
    assert ws.release_record("production").read_text(encoding="utf-8") == '{"release_id": "r1"}\n'
    assert (staging / "current_release.json").read_text(encoding="utf-8") == (
        '{"release_id": "s2"}\n'
    )
    assert (staging / "dhash.pid").read_text(encoding="utf-8") == "4242\n"


def test_restores_of_two_environments_never_interleave(tmp_path: Path) -> None:
    # Each environment has its own lock, but the include set (src/, config/, deployments/)
    # and the restore journal are shared: a second restore must wait or refuse, never
    # complete or overwrite the first one's journal mid-swap.
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    production = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path
    clock.advance(5)
    staging = create_backup(ws, "staging", clock=clock, reporter=quiet_reporter(clock)).path
    refused: list[BaseException] = []

    def meanwhile(step: str) -> None:
        if step == "journal":
            try:
                restore_backup(
                    ws, "staging", staging, clock=clock, reporter=quiet_reporter(clock), lock_wait=0
                )
            except BadInput as exc:
                refused.append(exc)

    restore_backup(
        ws, "production", production, clock=clock, reporter=quiet_reporter(clock), fault=meanwhile
    )
    assert len(refused) == 1
    assert "restore" in str(refused[0])
    assert not ws.restore_journal.exists()
    assert not list(ws.root.glob(".dhash-restore-*"))


def test_no_backup_is_made_of_a_half_restored_tree(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    made = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path

    def crash(step: str) -> None:
        if step == "in:src":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        restore_backup(
            ws, "production", made, clock=clock, reporter=quiet_reporter(clock), fault=crash
        )
    clock.advance(5)
    with pytest.raises(BadInput, match="interrupted restore") as caught:
        create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock))
    assert "rollback --env production" in str(caught.value.tip)
    assert sorted(p.name for p in ws.backups_dir.iterdir()) == [made.name, made.name + ".sha256"]


@pytest.mark.parametrize("pattern", ["**/*.json", "config/staging", "config/*/dhash.json"])
def test_an_exclude_that_drops_an_environment_config_is_refused(
    tmp_path: Path, pattern: str
) -> None:
    # A restore replaces config/ whole: a backup without config/{env}/dhash.json would
    # delete that environment's configuration, and the tool could not even start it again.
    ws = small_workspace(tmp_path / "ws", backup_section={"exclude": [pattern]})
    clock = FakeClock(START)
    with pytest.raises(BadInput, match=r"dhash\.json") as caught:
        create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock))
    assert "backup.exclude" in str(caught.value.tip)
    assert not ws.backups_dir.exists() or not list(ws.backups_dir.glob("dhash_*"))
