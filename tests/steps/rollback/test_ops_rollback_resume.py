"""A restore interrupted while config/ itself is between its two renames: rollback completes it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ops_helpers import ENV, stop_all, tune_for_tests

from dhash_gha.adapters.archive import create_backup, restore_backup
from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def test_rollback_completes_a_restore_interrupted_with_config_moved_out(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    code, out, err = run_cli(
        "--root", str(ws_root), "deploy", "--env", ENV, "--no-monitor", environ=clean_environ
    )
    assert code == 0, out + err
    ws = Workspace.at(ws_root)
    clock = SystemClock()
    reporter = Reporter({}, clock=clock, quiet=True)
    made = create_backup(ws, ENV, clock=clock, reporter=reporter).path
    run_cli("--root", str(ws_root), "service", "stop", "--env", ENV, environ=clean_environ)
    good_config = (ws_root / "config" / ENV / "dhash.json").read_bytes()

    def crash(step: str) -> None:
        if step == "out:config":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        restore_backup(ws, ENV, made, clock=clock, reporter=reporter, fault=crash)
    assert not (ws_root / "config").exists()

    code, out, err = run_cli(
        "--root",
        str(ws_root),
        "rollback",
        "--env",
        ENV,
        "--backup",
        f"backups/{made.name}",
        "--force",
        environ=clean_environ,
    )
    assert code == 0, out + err
    assert (ws_root / "config" / ENV / "dhash.json").read_bytes() == good_config
    assert not ws.restore_journal.exists()
    assert not list(ws_root.glob(".dhash-restore-*"))


def test_deploy_refuses_while_an_interrupted_restore_is_pending(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    # The tree is part old, part new: a deploy would back up and build on that mixture.
    ws = Workspace.at(ws_root)
    clock = SystemClock()
    reporter = Reporter({}, clock=clock, quiet=True)
    made = create_backup(ws, ENV, clock=clock, reporter=reporter).path

    def crash(step: str) -> None:
        if step == "in:src":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        restore_backup(ws, ENV, made, clock=clock, reporter=reporter, fault=crash)
    backups_before = sorted(p.name for p in ws.backups_dir.iterdir())
    code, out, err = run_cli(
        "--root", str(ws_root), "deploy", "--env", ENV, "--no-monitor", environ=clean_environ
    )
    assert code == 2, out + err
    assert "interrupted restore" in err
    assert f"rollback --env {ENV} --backup backups/{made.name}" in err
    assert sorted(p.name for p in ws.backups_dir.iterdir()) == backups_before
    assert ws.restore_journal.exists()
    assert not ws.release_record(ENV).exists()
