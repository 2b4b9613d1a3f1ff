"""Creating backups: contents, manifest, atomicity, names, free space, the runbook's shell lines."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from backup_helpers import START, quiet_reporter, small_workspace

from dhash_gha.adapters.archive import create_backup, latest_backup, read_manifest, verify_backup
from dhash_gha.adapters.archive import pack as pack_module
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.archive.manifest import MANIFEST_NAME
from dhash_gha.core.clock import FakeClock
from dhash_gha.errors import BadInput, CheckFailed

POSIX = os.name == "posix"
HAS_SH = shutil.which("sh") is not None and shutil.which("sort") is not None


def case_sensitive_fs(folder: Path) -> bool:
    probe = folder / "CaseProbe"
    probe.write_text("x")
    try:
        return not (folder / "caseprobe").exists()
    finally:
        probe.unlink()


def make(ws: Workspace, clock: FakeClock | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    clock = clock or FakeClock(START)
    return create_backup(ws, "production", clock=clock, reporter=quiet_reporter(clock), **kwargs)  # type: ignore[arg-type]


def test_contents_manifest_and_modes(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    (ws.root / "migrations").mkdir()
    ws.migration_state("production").write_text('{"version": "0002"}', encoding="utf-8")
    result = make(ws)
    assert result.path == ws.backups_dir / "dhash_production_20260301_120000.zip"
    if POSIX:
        assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(ws.sidecar(result.path).stat().st_mode) == 0o600
    with zipfile.ZipFile(result.path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        infos = {i.filename: i for i in archive.infolist()}
    assert "src/empty/" in names and "src/ünïcødé ñame.txt" in names
    assert not any("__pycache__" in n or n.endswith(".pid") for n in names)
    assert infos["src/media/photo.jpg"].compress_type == zipfile.ZIP_STORED
    assert infos["src/dhash_app/server.py"].compress_type == zipfile.ZIP_DEFLATED
    if POSIX:
        assert (infos["src/dhash_app/run.sh"].external_attr >> 16) & 0o777 == 0o755
    manifest = read_manifest(result.path)
    assert manifest["environment"] == "production"
    assert manifest["created_at"] == "2026-03-01T12:00:00Z"
    assert manifest["migration_version"] == "0002"
    assert "git_commit" in manifest and manifest["tool_version"]
    files = {f["path"]: f for f in manifest["files"]}
    assert files["src/dhash_app/run.sh"]["mode"] == (
        0o755 if POSIX else files["src/dhash_app/run.sh"]["mode"]
    )
    assert files["src/dhash_app/server.py"]["size"] == len("print('hello')\n" * 200)
    assert result.files == len(files) and result.bytes == sum(f["size"] for f in files.values())
    assert verify_backup(result.path).sha256 == result.sha256


def test_migration_version_defaults_and_git_commit_is_read(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    git = ws.root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (git / "refs" / "heads" / "main").write_text("a" * 40 + "\n", encoding="utf-8")
    manifest = read_manifest(make(ws).path)
    assert manifest["migration_version"] == "0000"
    assert manifest["git_commit"] == "a" * 40


def test_large_files_are_streamed_in_pieces_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pack_module, "PIECE", 64 * 1024)
    ws = small_workspace(tmp_path / "ws")
    text = b"".join(b"line %d of a long log\n" % i for i in range(40000))
    (ws.root / "src" / "big.log").write_bytes(text)
    (ws.root / "src" / "media" / "clip.mp4").write_bytes(os.urandom(300 * 1024))
    result = make(ws, workers=3)
    with zipfile.ZipFile(result.path) as archive:
        assert archive.read("src/big.log") == text
        assert archive.getinfo("src/big.log").compress_size < len(text) // 3
        assert archive.read("src/media/clip.mp4") == (ws.root / "src/media/clip.mp4").read_bytes()
    if shutil.which("unzip"):
        run = subprocess.run(["unzip", "-tq", str(result.path)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
    verify_backup(result.path)


def test_two_creates_in_the_same_second_sort_right(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    clock = FakeClock(START)
    first = make(ws, clock)
    (ws.root / "src" / "dhash_app" / "__init__.py").write_text("VERSION = 'B'\n", encoding="utf-8")
    second = make(ws, clock)
    third = make(ws, clock)
    assert len({first.path, second.path, third.path}) == 3
    assert ws.backups("production") == [third.path, second.path, first.path]
    assert latest_backup(ws, "production") == third.path
    if not HAS_SH:
        return
    # the runbook's pipeline, with the real sort, in C, C.UTF-8 and en_US.UTF-8 (whose
    # collation ignores punctuation: the locale where a "_01" suffix would sort wrong)
    environments = [{"LC_ALL": "C"}]
    installed = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    environments += [{"LC_ALL": n} for n in installed if n.lower() in ("c.utf8", "en_us.utf8")]
    if not any(n.lower() == "en_us.utf8" for n in installed) and shutil.which("localedef"):
        compiled = tmp_path / "locales"
        made = subprocess.run(
            ["localedef", "-i", "en_US", "-f", "UTF-8", str(compiled / "en_US.UTF-8")],
            capture_output=True,
        )
        if made.returncode in (0, 1) and (compiled / "en_US.UTF-8").exists():
            environments.append({"LC_ALL": "en_US.UTF-8", "LOCPATH": str(compiled)})
    for extra in environments:
        picked = subprocess.run(
            "ls -1 backups/dhash_production_*.zip | sort -r | head -n1",
            shell=True,
            cwd=ws.root,
            capture_output=True,
            text=True,
            env={**os.environ, **extra},
        ).stdout.strip()
        assert picked == f"backups/{third.path.name}", extra


def test_runbook_lines_verbatim(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    make(ws)
    script = (
        "LATEST_BACKUP=$(ls -1 backups/dhash_production_*.zip | sort -r | head -n1)\n"
        'sha256sum -c "${LATEST_BACKUP}.sha256"\n'
    )
    run = subprocess.run(["sh", "-c", script], cwd=ws.root, capture_output=True, text=True)
    assert run.returncode == 0 and ": OK" in run.stdout, run.stdout + run.stderr
    if shutil.which("shasum"):
        script = script.replace("sha256sum -c", "shasum -a 256 -c")
        run = subprocess.run(["sh", "-c", script], cwd=ws.root, capture_output=True, text=True)
        assert run.returncode == 0 and ": OK" in run.stdout, run.stdout + run.stderr
    # and sha256sum says no once the backup changes
    latest = ws.backups("production")[0]
    with latest.open("r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    run = subprocess.run(["sh", "-c", script], cwd=ws.root, capture_output=True, text=True)
    assert run.returncode != 0


def test_not_enough_free_space_leaves_nothing(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    with pytest.raises(CheckFailed) as caught:
        make(ws, free_space=lambda path: 1000)
    assert "free space" in caught.value.message and "prune" in (caught.value.tip or "")
    assert not ws.backups_dir.exists() or list(ws.backups_dir.iterdir()) == []


def test_a_failure_while_writing_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = small_workspace(tmp_path / "ws")

    def broken(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("dhash_gha.adapters.archive.create.pack_files", broken)
    with pytest.raises(CheckFailed) as caught:
        make(ws)
    assert "No space left" in caught.value.message
    assert list(ws.backups_dir.iterdir()) == []


def test_sidecar_failure_removes_the_published_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = small_workspace(tmp_path / "ws")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr("dhash_gha.adapters.archive.create.write_atomic", broken)
    with pytest.raises(CheckFailed):
        make(ws)
    assert list(ws.backups_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("make_bad", "word"),
    [
        (lambda root: os.symlink("/etc/passwd", root / "src" / "link"), "symbolic link"),
        (lambda root: (root / "src" / "CON.txt").write_text("x"), "reserved"),
        (
            lambda root: [(root / "src" / n).write_text(n) for n in ("Readme", "README")],
            "case-insensitive",
        ),
    ],
)
def test_unrestorable_trees_are_refused_at_create(tmp_path: Path, make_bad, word: str) -> None:  # type: ignore[no-untyped-def]
    if word in ("symbolic link", "reserved") and not POSIX:
        pytest.skip("Windows cannot create these (links need privileges, CON is a device)")
    if word == "case-insensitive" and not case_sensitive_fs(tmp_path):
        pytest.skip("this file system cannot hold two names differing only in case")
    ws = small_workspace(tmp_path / "ws")
    make_bad(ws.root)
    with pytest.raises(BadInput) as caught:
        make(ws)
    assert word in caught.value.message
    assert not ws.backups_dir.exists()


def test_tree_over_the_restore_limit_is_refused(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws", backup_section={"max_uncompressed_bytes": 1000})
    with pytest.raises(BadInput) as caught:
        make(ws)
    assert "max_uncompressed_bytes" in caught.value.message


def test_manifest_is_last_and_names_are_sorted(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    with zipfile.ZipFile(make(ws).path) as archive:
        names = archive.namelist()
    assert names[-1] == MANIFEST_NAME
    files = [n for n in names[:-1] if not n.endswith("/")]
    assert files == sorted(files)
    assert json.loads(zipfile.ZipFile(ws.backups("production")[0]).read(MANIFEST_NAME))["files"]


def test_cli_backup_without_action_creates(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    ws = small_workspace(tmp_path / "ws")
    code, out, err = run_cli("--root", str(ws.root), "backup", "--env", "production", environ={})
    assert code == 0, err
    assert "backups/dhash_production_" in out
    assert len(ws.backups("production")) == 1
    logs = list(ws.logs_dir.glob("backup_production_*.log"))
    assert logs and "mb_per_s=" in logs[0].read_text(encoding="utf-8")
    code, out, err = run_cli(
        "--root", str(ws.root), "backup", "create", "--env", "nope", environ={}
    )
    assert code == 2 and "unknown environment" in err
    code, out, err = run_cli("--root", str(ws.root), "backup", environ={})
    assert code == 2 and "--env" in err
