"""Pure decisions: which backup is the pre-deploy backup; release snapshots; tree digests."""

from __future__ import annotations

from pathlib import Path

from dhash_gha.adapters.releases import (
    append_history,
    read_history,
    read_release,
    release_snapshot,
    tree_digest,
    write_release,
)
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.steps.deploy.plan import choose_pre_deploy_backup

RUNNING = {"release_id": "r1", "tree_sha256": "aaa"}


def test_first_deploy_backs_up_the_tree() -> None:
    choice = choose_pre_deploy_backup(None, "aaa", None, no_backup=False, latest=None)
    assert choice.create and choice.reuse is None and "nothing deployed yet" in choice.why


def test_same_tree_backs_up_the_running_release() -> None:
    choice = choose_pre_deploy_backup(RUNNING, "aaa", "backups/s.zip", no_backup=False, latest=None)
    assert choice.create and choice.reuse is None


def test_new_tree_reuses_the_running_releases_snapshot() -> None:
    choice = choose_pre_deploy_backup(RUNNING, "bbb", "backups/s.zip", no_backup=False, latest="x")
    assert not choice.create and choice.reuse == "backups/s.zip" and "r1" in choice.why


def test_new_tree_without_snapshot_backs_up_and_says_what_it_holds() -> None:
    choice = choose_pre_deploy_backup(RUNNING, "bbb", None, no_backup=False, latest="x")
    assert choice.create and "already holds the new files" in choice.why


def test_no_backup_uses_the_latest() -> None:
    for running, tree in ((None, "aaa"), (RUNNING, "aaa"), (RUNNING, "bbb")):
        choice = choose_pre_deploy_backup(running, tree, None, no_backup=True, latest="b/l.zip")
        assert not choice.create and choice.reuse == "b/l.zip"


def test_release_snapshot_is_the_latest_backup_holding_that_release(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    append_history(ws, "production", {"type": "deploy", "release_id": "r1", "release_backup": "b1"})
    append_history(ws, "production", {"type": "deploy", "release_id": "r2", "release_backup": "b2"})
    append_history(
        ws, "production", {"type": "rollback", "release_id": "r1", "release_backup": "b3"}
    )
    with ws.deploy_history("production").open("a") as handle:
        handle.write('{"torn": ')  # a crash mid-append: skipped, never fatal
    history = read_history(ws, "production")
    assert len(history) == 3
    assert release_snapshot(history, "r1") == "b3"
    assert release_snapshot(history, "r2") == "b2"
    assert release_snapshot(history, "r9") is None


def test_tree_digest_follows_content_and_ignores_caches(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    (tmp_path / "src" / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "a.py").write_text("x = 1\n")
    first = tree_digest(ws, ["src"])
    (tmp_path / "src" / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert tree_digest(ws, ["src"]) == first
    (tmp_path / "src" / "pkg" / "a.py").write_text("x = 2\n")
    assert tree_digest(ws, ["src"]) != first


def test_release_record_round_trip(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    assert read_release(ws, "production") is None
    write_release(ws, "production", {"release_id": "r1", "migration_version": "0002"})
    assert read_release(ws, "production") == {"release_id": "r1", "migration_version": "0002"}
