"""The zip container writer: ZIP64 records, streamed members, progress output."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from backup_helpers import START, quiet_reporter, small_workspace

from dhash_gha.adapters.archive import create_backup
from dhash_gha.adapters.archive import progress as progress_module
from dhash_gha.adapters.archive.progress import Progress
from dhash_gha.adapters.archive.zipwrite import DEFLATED, STORED, ZipWriter
from dhash_gha.core.clock import FakeClock


def unzip_test(path: Path) -> None:
    if shutil.which("unzip"):
        run = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_more_than_65535_entries_uses_zip64_end_records(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with path.open("wb") as handle:
        writer = ZipWriter(handle)
        for index in range(70_000):
            writer.add_complete(f"src/f{index}", 0o644, 0, STORED, b"", 0, 0)
        writer.close()
    assert b"PK\x06\x06" in path.read_bytes()[-200:]
    with zipfile.ZipFile(path) as archive:
        assert len(archive.infolist()) == 70_000
        assert archive.testzip() is None
    unzip_test(path)


def test_streamed_members_with_descriptors_and_zip64_local_headers(tmp_path: Path) -> None:
    data = b"streamed content " * 5000
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = compressor.compress(data) + compressor.flush()
    path = tmp_path / "streamed.zip"
    with path.open("wb") as handle:
        writer = ZipWriter(handle)
        writer.add_directory("src/", 0o755, 0)
        for name, hint in (("src/small", len(data)), ("src/huge-hint", 5 * 1024**3)):
            writer.begin(name, 0o640, 0, DEFLATED, hint)
            writer.write(packed[:100])
            writer.write(packed[100:])
            writer.finish(zlib.crc32(data), len(data))
        writer.add_complete("src/é.txt", 0o600, 0, STORED, b"x", zlib.crc32(b"x"), 1)
        writer.close()
    with zipfile.ZipFile(path) as archive:
        assert archive.read("src/small") == data
        assert archive.read("src/huge-hint") == data
        assert archive.read("src/é.txt") == b"x"
        assert (archive.getinfo("src/small").external_attr >> 16) & 0o777 == 0o640
        assert archive.getinfo("src/").is_dir()
    unzip_test(path)


def test_writer_refuses_misuse() -> None:
    writer = ZipWriter(io.BytesIO())
    with pytest.raises(RuntimeError):
        writer.write(b"x")
    writer.begin("a", 0o644, 0, STORED, 1)
    with pytest.raises(RuntimeError):
        writer.add_directory("b/", 0o755, 0)
    with pytest.raises(RuntimeError):
        writer.close()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "MIN_BYTES", 0)
    clock = FakeClock(START)
    shown = Terminal()
    bar = Progress("backup", 100, shown, clock)
    bar.advance(50)
    bar.close()
    assert "backup:  50.0%" in shown.getvalue() and shown.getvalue().endswith("\n")
    hidden = io.StringIO()
    bar = Progress("backup", 100, hidden, clock)
    bar.advance(50)
    bar.close()
    assert hidden.getvalue() == ""
    ws = small_workspace(tmp_path / "ws")
    reporter = quiet_reporter(clock)
    reporter.err_stream = Terminal()
    create_backup(ws, "production", clock=clock, reporter=reporter)
    assert "backup: 100.0%" in reporter.err_stream.getvalue()
