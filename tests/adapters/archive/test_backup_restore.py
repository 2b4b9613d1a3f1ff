"""Restore: round trip, hostile archives refused with nothing written outside staging, tar sources."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from backup_helpers import (
    START,
    hostile_zip,
    quiet_reporter,
    small_workspace,
    snapshot,
    tree_of,
    write_sidecar,
)

from dhash_gha.adapters.archive import create_backup, restore_backup
from dhash_gha.adapters.archive.extract import extract_zip
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.archive.entries import Limits
from dhash_gha.core.clock import FakeClock
from dhash_gha.errors import BadInput, CheckFailed


def backup(ws: Workspace, clock: FakeClock) -> Path:
    return create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock)).path


def restore(ws: Workspace, source: Path, clock: FakeClock | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    clock = clock or FakeClock(START)
    return restore_backup(
        ws,
        "production",
        source,
        clock=clock,
        reporter=quiet_reporter(clock),
        **kwargs,  # type: ignore[arg-type]
    )


def change_everything(ws: Workspace) -> None:
    (ws.root / "src" / "dhash_app" / "__init__.py").write_text("VERSION = 'B'\n", encoding="utf-8")
    (ws.root / "src" / "dhash_app" / "run.sh").chmod(0o600)
    (ws.root / "src" / "new_in_b.py").write_text("b\n", encoding="utf-8")
    (ws.root / "src" / "empty").rmdir()
    (ws.root / "src" / "ünïcødé ñame.txt").unlink()
    (ws.root / "config" / "staging" / "dhash.json").write_text("{}", encoding="utf-8")
    (ws.root / "deployments" / "production" / "current_release.json").write_text("{}")


def test_round_trip_bytes_modes_empty_dirs_unicode(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    (ws.root / "src" / "private").mkdir(mode=0o700)
    (ws.root / "src" / "private").chmod(0o700)
    (ws.root / "src" / "private" / "key").write_text("k")
    source = backup(ws, clock)
    before = tree_of(ws.root)
    change_everything(ws)
    changed = tree_of(ws.root)
    clock.advance(60)
    result = restore(ws, source, clock)
    after = tree_of(ws.root)
    excluded = {k for k in before if "__pycache__" in k or k.endswith("dhash.pid")}
    assert {k: v for k, v in after.items()} == {
        k: v for k, v in before.items() if k not in excluded
    }
    assert after["src/empty"][0] == "dir"
    if os.name == "posix":
        assert after["src/dhash_app/run.sh"][1] == 0o755
        assert after["src/private"][1] == 0o700
    assert result.manifest["environment"] == "production"
    assert result.source == source
    # the replaced state went to rollbacks/ first, with a sidecar, and can itself be restored
    assert result.pre_rollback_archive.name == "pre_rollback_production_20260301_120100.tar.gz"
    assert Workspace.sidecar(result.pre_rollback_archive).exists()
    with tarfile.open(result.pre_rollback_archive) as archive:
        assert "src/new_in_b.py" in archive.getnames()
    clock.advance(60)
    restore(ws, result.pre_rollback_archive, clock)
    undone = tree_of(ws.root)
    assert {k: v for k, v in undone.items() if "__pycache__" not in k and "dhash.pid" not in k} == {
        k: v for k, v in changed.items() if "__pycache__" not in k and "dhash.pid" not in k
    }
    assert not ws.restore_journal.exists()
    assert not list(ws.root.glob(".dhash-restore-*"))


def test_restore_logs_one_summary_line(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    source = backup(ws, clock)
    reporter = quiet_reporter(clock)
    log = reporter.attach_log(ws.log_file("rollback", "production", clock.now()))
    restore_backup(ws, "production", source, clock=clock, reporter=reporter)
    lines = [line for line in log.read_text().splitlines() if "event=restore_complete" in line]
    assert len(lines) == 1
    assert all(f"{k}=" in lines[0] for k in ("files", "bytes", "seconds", "mb_per_s"))


def _hostile_cases() -> list[tuple[str, list[tuple[zipfile.ZipInfo | str, bytes]], str]]:
    def info(name: str, mode: int) -> zipfile.ZipInfo:
        item = zipfile.ZipInfo(name)
        item.external_attr = mode << 16
        item.create_system = 3
        return item

    zeros = b"\0" * (8 * 1024 * 1024)
    return [
        ("absolute", [("/tmp/evil", b"x")], "absolute"),
        ("dotdot", [("src/../../evil", b"x")], "'..'"),
        ("drive", [("C:evil", b"x")], "drive letter"),
        ("backslash", [("src\\..\\..\\evil", b"x")], "backslash"),
        ("symlink", [(info("src/link", 0o120777), b"/etc/passwd")], "symlink"),
        ("device", [(info("src/dev", 0o020644), b"")], "device"),
        ("duplicate", [("src/a.py", b"1"), ("src/a.py", b"2")], "duplicate"),
        ("outside", [("migrations/0001_evil.py", b"x")], "outside"),
        ("dotgit", [(".git/hooks/post-checkout", b"x")], "outside"),
        ("reserved", [("src/aux.py", b"x")], "reserved"),
        ("case", [("src/Data.txt", b"1"), ("src/data.txt", b"2")], "case-insensitive"),
        ("ratio", [("src/zeros.bin", zeros)], "bomb"),
    ]


@pytest.mark.parametrize(
    ("label", "members", "word"), _hostile_cases(), ids=[c[0] for c in _hostile_cases()]
)
def test_hostile_zip_refused_and_nothing_written(
    tmp_path: Path, label: str, members: list[tuple[zipfile.ZipInfo | str, bytes]], word: str
) -> None:
    ws = small_workspace(tmp_path / "ws")
    source = hostile_zip(ws, [("src/ok.py", b"fine"), *members])
    before = snapshot(tmp_path)
    with pytest.raises(BadInput) as caught:
        restore(ws, source)
    assert word in caught.value.message, caught.value.message
    assert snapshot(tmp_path) == before  # not a byte outside (staging was removed too)
    assert not (tmp_path / "evil").exists()


def test_size_bomb_over_the_configured_limit(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws", backup_section={"max_uncompressed_bytes": 4096})
    source = hostile_zip(ws, [("src/big.bin", os.urandom(8192))])
    before = snapshot(tmp_path)
    with pytest.raises(BadInput, match="over the limit"):
        restore(ws, source)
    assert snapshot(tmp_path) == before


def test_lying_sizes_are_caught_while_extracting(tmp_path: Path) -> None:
    """A member whose declared size is smaller than its data: refused, staging removed."""
    ws = small_workspace(tmp_path / "ws")
    source = hostile_zip(ws, [("src/a.txt", b"a" * 5000)])
    data = bytearray(source.read_bytes())
    # patch the uncompressed size in the first central directory record (src/a.txt)
    first = data.find(b"PK\x01\x02")
    data[first + 24 : first + 28] = (100).to_bytes(4, "little")
    source.write_bytes(bytes(data))
    write_sidecar(source)
    with zipfile.ZipFile(source) as archive:
        assert archive.getinfo("src/a.txt").file_size == 100
    before = snapshot(tmp_path)
    with pytest.raises((CheckFailed, BadInput)):
        restore(ws, source)
    assert snapshot(tmp_path) == before


def test_zip_needs_its_sidecar_even_when_unverified(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    source = backup(ws, FakeClock(START))
    Workspace.sidecar(source).unlink()
    before = snapshot(tmp_path)
    with pytest.raises(BadInput, match="missing"):
        restore(ws, source, unverified=True)
    Workspace.sidecar(source).write_text("")
    with pytest.raises(BadInput, match="empty"):
        restore(ws, source)
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.endswith(".sha256")} == {
        k: v for k, v in before.items()
    }


def test_flipped_byte_refused_before_anything_is_touched(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    source = backup(ws, FakeClock(START))
    with source.open("r+b") as handle:
        handle.seek(120)
        byte = handle.read(1)
        handle.seek(120)
        handle.write(bytes([byte[0] ^ 1]))
    before = snapshot(tmp_path)
    with pytest.raises(CheckFailed):
        restore(ws, source)
    assert snapshot(tmp_path) == before


def test_backup_of_another_environment_is_refused(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    staging_backup = create_backup(ws, "staging", clock=clock, reporter=quiet_reporter(clock)).path
    with pytest.raises(BadInput, match="'staging', not 'production'"):
        restore(ws, staging_backup)
    assert not list(ws.root.glob(".dhash-restore-*"))


def _manual_tar(
    ws: Workspace, name: str = "dhash_production_manual_20260301_115900.tar.gz"
) -> Path:
    """What the runbook's `tar -czf backups/... src config deployments` writes."""
    path = ws.backups_dir / name
    ws.backups_dir.mkdir(exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for item in ("src", "config", "deployments"):
            archive.add(ws.root / item, arcname=item)
    return path


def test_manual_tar_needs_unverified_and_is_logged(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    source = _manual_tar(ws)
    before = tree_of(ws.root)
    change_everything(ws)
    with pytest.raises(BadInput, match="--unverified"):
        restore(ws, source)
    clock = FakeClock(START)
    reporter = quiet_reporter(clock)
    log = reporter.attach_log(ws.log_file("rollback", "production", clock.now()))
    result = restore_backup(
        ws, "production", source, clock=clock, reporter=reporter, unverified=True
    )
    assert tree_of(ws.root) == before
    assert result.manifest["unverified"] is True
    assert "event=restore_unverified" in log.read_text()


def _tar_with(ws: Workspace, members: list[tarfile.TarInfo], data: bytes = b"x") -> Path:
    path = ws.backups_dir / "dhash_production_manual_20260301_115900.tar.gz"
    ws.backups_dir.mkdir(exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        ok = tarfile.TarInfo("src/ok.py")
        ok.size = 1
        archive.addfile(ok, io.BytesIO(b"y"))
        for member in members:
            archive.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    member.size = 1 if kind == tarfile.REGTYPE else 0
    return member


@pytest.mark.parametrize(
    ("member", "word"),
    [
        (_member("src/link", tarfile.SYMTYPE, "/etc/passwd"), "symlink"),
        (_member("src/hard", tarfile.LNKTYPE, "src/ok.py"), "symlink"),
        (_member("src/dev", tarfile.CHRTYPE), "device"),
        (_member("src/fifo", tarfile.FIFOTYPE), "device"),
        (_member("../evil"), "'..'"),
        (_member("/tmp/evil"), "absolute"),
        (_member("data/production/x.queue"), "outside"),
    ],
)
def test_hostile_tar_refused(tmp_path: Path, member: tarfile.TarInfo, word: str) -> None:
    ws = small_workspace(tmp_path / "ws")
    source = _tar_with(ws, [member])
    before = snapshot(tmp_path)
    with pytest.raises(BadInput) as caught:
        restore(ws, source, unverified=True)
    assert word in caught.value.message
    assert snapshot(tmp_path) == before


def test_windows_long_paths_are_refused_on_windows(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    long_name = "src/" + "/".join(["nested-directory"] * 16) + "/file.txt"
    source = hostile_zip(ws, [(long_name, b"x")])
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(BadInput, match="260"):
        extract_zip(
            source,
            staging,
            allowed_include=["src", "config", "deployments"],
            limits=Limits(),
            workers=1,
            final_root=Path("C:/Users/operator/dhash"),
            windows=True,
        )
    assert list(staging.iterdir()) == []


def test_manifest_restoring_outside_the_configured_set_is_refused(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    from backup_helpers import manifest_for

    manifest = manifest_for({".git/config": b"x"})
    manifest["include"] = [".git"]
    source = hostile_zip(ws, [(".git/config", b"x")], manifest=manifest)
    with pytest.raises(BadInput, match=r"outside this environment's backup\.include"):
        restore(ws, source)


def test_restored_files_are_not_world_writable_from_crafted_modes(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    from backup_helpers import manifest_for

    manifest = manifest_for({"src/x.sh": b"x"})
    manifest["files"][0]["mode"] = 0o4777  # setuid requested by the manifest
    source = hostile_zip(ws, [("src/x.sh", b"x")], manifest=manifest)
    restore(ws, source)
    mode = stat.S_IMODE((ws.root / "src" / "x.sh").stat().st_mode)
    assert mode & 0o7000 == 0 and (os.name != "posix" or mode == 0o777)
    assert json.loads((ws.root / "config" / "production" / "dhash.json").read_text())


def test_directory_paths_in_the_manifest_are_never_used_as_given(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    victim = tmp_path / "victim"
    victim.mkdir(mode=0o700)
    victim.chmod(0o700)
    from backup_helpers import manifest_for

    manifest = manifest_for({"src/a.txt": b"a"})
    manifest["directories"] = [
        {"path": "../../../victim", "mode": 0o777},
        {"path": "src", "mode": 0o750},
    ]
    source = hostile_zip(ws, [("src/", b""), ("src/a.txt", b"a")], manifest=manifest)
    restore(ws, source)
    assert stat.S_IMODE(victim.stat().st_mode) == 0o700
    if os.name == "posix":
        assert stat.S_IMODE((ws.root / "src").stat().st_mode) == 0o750


def test_disk_errors_while_extracting_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = small_workspace(tmp_path / "ws")
    source = backup(ws, FakeClock(START))
    before = snapshot(tmp_path)

    def full(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("dhash_gha.adapters.archive.extract.create_file", full)
    with pytest.raises(CheckFailed, match="No space left"):
        restore(ws, source)
    assert snapshot(tmp_path) == before
