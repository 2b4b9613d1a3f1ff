"""Verify, list, latest and prune: one flipped byte is caught and named."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from backup_helpers import START, quiet_reporter, small_workspace

from dhash_gha.adapters.archive import create_backup, latest_backup, list_backups, verify_backup
from dhash_gha.adapters.archive.listing import prune_backups
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock
from dhash_gha.errors import BadInput, CheckFailed


def make(ws: Workspace, clock: FakeClock) -> Path:
    return create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path


def flip(path: Path, offset: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


def member_offset(path: Path, name: str) -> int:
    """Offset of the first data byte of ``name`` inside the zip."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    with path.open("rb") as handle:
        handle.seek(info.header_offset + 26)
        name_len = int.from_bytes(handle.read(2), "little")
        extra_len = int.from_bytes(handle.read(2), "little")
    return info.header_offset + 30 + name_len + extra_len


@pytest.mark.parametrize("member", ["src/dhash_app/server.py", "src/media/photo.jpg"])
def test_one_flipped_byte_fails_naming_the_file(tmp_path: Path, member: str) -> None:
    ws = small_workspace(tmp_path / "ws")
    path = make(ws, FakeClock(START))
    flip(path, member_offset(path, member) + 5)
    with pytest.raises(CheckFailed) as caught:
        verify_backup(path)
    assert member in caught.value.message
    assert caught.value.exit_code == 1


def test_a_consistent_forgery_is_caught_by_the_manifest(tmp_path: Path) -> None:
    """Member replaced with a valid CRC and a fresh sidecar: the manifest hash still says no."""
    ws = small_workspace(tmp_path / "ws")
    path = make(ws, FakeClock(START))
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(forged, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "src/dhash_app/__init__.py":
                data = b"VERSION = 'X'\n"
            target.writestr(info, data)
    forged.replace(path)
    from backup_helpers import write_sidecar

    write_sidecar(path)
    with pytest.raises(CheckFailed) as caught:
        verify_backup(path)
    assert "src/dhash_app/__init__.py" in caught.value.message


def test_sidecar_missing_empty_or_for_another_file(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    path = make(ws, FakeClock(START))
    sidecar = ws.sidecar(path)
    good = sidecar.read_text(encoding="ascii")
    sidecar.write_text(good.replace(path.name, "dhash_production_19990101_000000.zip"))
    with pytest.raises(BadInput, match="not the backup"):
        verify_backup(path)
    sidecar.write_text("")
    with pytest.raises(BadInput, match="empty"):
        verify_backup(path)
    sidecar.unlink()
    with pytest.raises(BadInput, match="missing"):
        verify_backup(path)
    with pytest.raises(BadInput, match="does not exist"):
        verify_backup(tmp_path / "nope.zip")


def test_wrong_checksum_in_sidecar(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    path = make(ws, FakeClock(START))
    ws.sidecar(path).write_text("0" * 64 + f"  backups/{path.name}\n")
    with pytest.raises(CheckFailed, match="does not match its sidecar"):
        verify_backup(path)


def test_verify_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = small_workspace(tmp_path / "ws")
    path = make(ws, FakeClock(START))
    monkeypatch.chdir(tmp_path)
    assert verify_backup(path).files > 0
    monkeypatch.chdir(ws.backups_dir)
    assert verify_backup(Path(path.name)).files > 0


def test_truncated_or_not_a_zip(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    path = make(ws, FakeClock(START))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    from backup_helpers import write_sidecar

    write_sidecar(path)
    with pytest.raises(CheckFailed, match="not a readable zip"):
        verify_backup(path)


def test_list_latest_and_unverified(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    first = make(ws, clock)
    clock.advance(60)
    second = make(ws, clock)
    flip(second, 200)
    listing = list_backups(ws, "production")
    assert [b.path for b in listing] == [second, first]
    assert [b.verified for b in listing] == [False, True]
    assert latest_backup(ws, "production") == first
    assert latest_backup(ws, "production", verified=False) == second
    assert latest_backup(ws, "staging") is None


def test_prune_keeps_newest_verified_and_the_release_backup(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    paths = []
    for _ in range(5):
        paths.append(make(ws, clock))
        clock.advance(60)
    release_backup = paths[0]
    ws.release_record("production").write_text(
        json.dumps({"release_id": "r1", "pre_deploy_backup": f"backups/{release_backup.name}"})
    )
    for newer in paths[2:]:
        flip(newer, 200)  # the three newest no longer verify
    plan = prune_backups(ws, "production", 1)
    survivors = ws.backups("production")
    assert paths[-1] in survivors  # the newest, kept by --keep 1
    assert paths[1] in survivors  # the newest verified one
    assert release_backup in survivors  # the current release's pre-deploy backup
    assert set(plan.delete) == {paths[2], paths[3]}
    assert not ws.sidecar(paths[2]).exists()
    with pytest.raises(BadInput, match="at least 1"):
        prune_backups(ws, "production", 0)


def test_cli_verify_list_latest_prune(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    ws = small_workspace(tmp_path / "ws")
    root = ["--root", str(ws.root)]
    code, out, err = run_cli(*root, "backup", "latest", "--env", "production", environ={})
    assert code == 1 and "no verified backup" in err
    clock = FakeClock(START)
    path = make(ws, clock)
    clock.advance(3600)
    code, out, err = run_cli(*root, "backup", "latest", "--env", "production", environ={})
    assert code == 0 and out.strip() == f"backups/{path.name}"
    code, out, err = run_cli(*root, "backup", "verify", f"backups/{path.name}", environ={})
    assert code == 0 and "OK" in out
    code, out, err = run_cli(
        *root, "backup", "list", "--env", "production", environ={}, clock=clock
    )
    assert code == 0 and path.name in out and "yes" in out and "60m" in out
    code, out, err = run_cli(
        *root, "backup", "prune", "--env", "production", "--keep", "1", environ={}
    )
    assert code == 0 and "1 kept, 0 deleted" in out
    flip(path, member_offset(path, "src/dhash_app/server.py"))
    code, out, err = run_cli(*root, "backup", "verify", str(path), environ={})
    assert code == 1 and "src/dhash_app/server.py" in err


def test_cli_latest_any_list_empty_and_prune_dry_run(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    ws = small_workspace(tmp_path / "ws")
    root = ["--root", str(ws.root)]
    code, out, _ = run_cli(*root, "backup", "list", "--env", "production", environ={})
    assert code == 0 and "no backups of production" in out
    clock = FakeClock(START)
    older = make(ws, clock)
    clock.advance(60)
    newer = make(ws, clock)
    ws.sidecar(newer).unlink()
    code, out, _ = run_cli(*root, "backup", "latest", "--env", "production", environ={})
    assert code == 0 and out.strip() == f"backups/{older.name}"
    code, out, _ = run_cli(*root, "backup", "latest", "--env", "production", "--any", environ={})
    assert code == 0 and out.strip() == f"backups/{newer.name}"
    code, out, _ = run_cli(*root, "backup", "list", "--env", "production", environ={})
    assert "NO (" in out and "missing" in out
    code, out, _ = run_cli(
        *root, "backup", "prune", "--env", "production", "--keep", "1", "--dry-run", environ={}
    )
    assert code == 0 and "would delete" not in out and "0 to delete" in out
    assert older.exists() and newer.exists()
    code, out, err = run_cli(
        *root, "backup", "prune", "--env", "production", "--keep", "0", environ={}
    )
    assert code == 2 and "at least 1" in err


def test_verify_refuses_what_restore_would_refuse(tmp_path: Path) -> None:
    from backup_helpers import hostile_zip

    ws = small_workspace(tmp_path / "ws")
    source = hostile_zip(ws, [("src/ok.py", b"x"), ("src/../../evil.py", b"y")])
    with pytest.raises(CheckFailed, match="unsafe archive entries"):
        verify_backup(source)
