"""A crash at every step of a restore leaves old-or-new trees; running it again completes it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from backup_helpers import START, quiet_reporter, small_workspace, tree_of

from dhash_gha.adapters.archive import create_backup, restore_backup
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock

ITEMS = ("src", "config", "deployments")


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it by accident."""


def prepared(root: Path) -> tuple[Workspace, Path, dict[str, Any], dict[str, Any]]:
    """A workspace with backup A taken, then changed to state B."""
    ws = small_workspace(root)
    clock = FakeClock(START)
    source = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path
    state_a = {
        k: v for k, v in tree_of(ws.root).items() if "__pycache__" not in k and "dhash.pid" not in k
    }
    (ws.root / "src" / "dhash_app" / "__init__.py").write_text("VERSION = 'B'\n")
    (ws.root / "src" / "only_in_b").mkdir()
    (ws.root / "config" / "production" / "extra.json").write_text("{}")
    (ws.root / "deployments" / "production" / "current_release.json").write_text('{"r": 2}')
    state_b = tree_of(ws.root)
    return ws, source, state_a, state_b


def part(tree: dict[str, Any], item: str) -> dict[str, Any]:
    return {k: v for k, v in tree.items() if k == item or k.startswith(item + "/")}


def assert_each_item_old_or_new(
    ws: Workspace, state_a: dict[str, Any], state_b: dict[str, Any]
) -> None:
    now = tree_of(ws.root)
    for item in ITEMS:
        current = part(now, item)
        if not current:  # between its two renames: only allowed while a journal is pending
            assert ws.restore_journal.exists(), f"{item} missing without a pending journal"
            continue
        assert current in (part(state_a, item), part(state_b, item)), f"{item} is a mixture"


def recorded_steps(tmp_path: Path) -> list[str]:
    ws, source, _, _ = prepared(tmp_path / "record")
    seen: list[str] = []
    clock = FakeClock(START)
    restore_backup(
        ws, "production", source, clock=clock, reporter=quiet_reporter(clock), fault=seen.append
    )
    return seen


ALL_STEPS = [
    "extracted",
    "archived",
    "journal",
    *[f"{d}:{item}" for item in ITEMS for d in ("out", "in")],
    "committed",
]


def test_the_step_list_is_complete(tmp_path: Path) -> None:
    assert recorded_steps(tmp_path) == ALL_STEPS


@pytest.mark.parametrize("step", ALL_STEPS)
def test_exception_at_each_step_then_rerun(tmp_path: Path, step: str) -> None:
    ws, source, state_a, state_b = prepared(tmp_path / "ws")
    clock = FakeClock(START)

    def fault(name: str) -> None:
        if name == step:
            raise Crash(name)

    with pytest.raises(Crash):
        restore_backup(
            ws, "production", source, clock=clock, reporter=quiet_reporter(clock), fault=fault
        )
    assert_each_item_old_or_new(ws, state_a, state_b)
    clock.advance(5)
    result = restore_backup(ws, "production", source, clock=clock, reporter=quiet_reporter(clock))
    assert {k: v for k, v in tree_of(ws.root).items()} == state_a
    assert not ws.restore_journal.exists()
    assert not list(ws.root.glob(".dhash-restore-*"))
    assert result.pre_rollback_archive.exists()


_CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from dhash_gha.adapters.archive import restore_backup
    from dhash_gha.adapters.clock import SystemClock
    from dhash_gha.adapters.reporter import Reporter
    from dhash_gha.adapters.workspace import Workspace

    root, source, step = sys.argv[1:4]

    def fault(name):
        if name == step:
            os._exit(9)  # die on the spot: no cleanup, no finally

    restore_backup(Workspace.at(root), "production", Path(source), clock=SystemClock(),
                   reporter=Reporter({}, quiet=True), fault=fault)
    """
)


@pytest.mark.parametrize(
    "step", ["extracted", "archived", "journal", "out:config", "in:config", "committed"]
)
def test_hard_kill_at_a_step_then_rerun(tmp_path: Path, step: str) -> None:
    ws, source, state_a, state_b = prepared(tmp_path / "ws")
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ws.root), str(source), step],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 9, run.stderr
    assert_each_item_old_or_new(ws, state_a, state_b)
    clock = FakeClock(START)
    # a re-run with the same source completes it; with any source it completes it first
    restore_backup(ws, "production", source, clock=clock, reporter=quiet_reporter(clock))
    assert tree_of(ws.root) == state_a
    assert not ws.restore_journal.exists()
    assert not list(ws.root.glob(".dhash-restore-*"))


def test_a_different_restore_completes_the_pending_one_first(tmp_path: Path) -> None:
    ws, source_a, _, state_b = prepared(tmp_path / "ws")
    clock = FakeClock(START)
    clock.advance(60)
    source_b = create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path

    def fault(name: str) -> None:
        if name == "out:config":
            raise Crash(name)

    with pytest.raises(Crash):
        restore_backup(
            ws, "production", source_a, clock=clock, reporter=quiet_reporter(clock), fault=fault
        )
    assert ws.restore_journal.exists()
    clock.advance(60)
    result = restore_backup(ws, "production", source_b, clock=clock, reporter=quiet_reporter(clock))
    assert not result.resumed
    assert {k: v for k, v in tree_of(ws.root).items() if "__pycache__" not in k} == {
        k: v for k, v in state_b.items() if "__pycache__" not in k and "dhash.pid" not in k
    }
    # the state it replaced was A (the completed pending restore), archived before the swap
    import tarfile

    with tarfile.open(result.pre_rollback_archive) as archive:
        names = archive.getnames()
    assert "src/only_in_b" not in names and "src/dhash_app/__init__.py" in names


def test_stale_staging_is_removed_and_a_broken_journal_is_reported(tmp_path: Path) -> None:
    ws, source, state_a, _ = prepared(tmp_path / "ws")
    stale = ws.root / ".dhash-restore-20260101_000000"
    (stale / "new" / "src").mkdir(parents=True)
    (stale / "new" / "src" / "half.py").write_text("half")
    clock = FakeClock(START)
    restore_backup(ws, "production", source, clock=clock, reporter=quiet_reporter(clock))
    assert not stale.exists()
    assert tree_of(ws.root) == state_a
    ws.restore_journal.write_text("{not json")
    from dhash_gha.errors import CheckFailed

    with pytest.raises(CheckFailed, match="unreadable"):
        restore_backup(ws, "production", source, clock=clock, reporter=quiet_reporter(clock))


def test_read_only_trees_are_replaced_and_cleaned_up(tmp_path: Path) -> None:
    ws, source, state_a, _ = prepared(tmp_path / "ws")
    locked = ws.root / "src" / "only_in_b"
    (locked / "ro.txt").write_text("read only")
    (locked / "ro.txt").chmod(0o400)
    locked.chmod(0o500)
    clock = FakeClock(START)
    restore_backup(ws, "production", source, clock=clock, reporter=quiet_reporter(clock))
    assert tree_of(ws.root) == state_a
    assert not list(ws.root.glob(".dhash-restore-*"))
