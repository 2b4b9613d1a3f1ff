"""The parallel gzip writer used for pre-rollback archives: valid for gzip, tar and Python."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from backup_helpers import START, small_workspace

from dhash_gha.adapters.archive.gzchunks import CHUNK, ParallelGzipWriter
from dhash_gha.adapters.archive.prerollback import write_pre_rollback


def test_members_concatenate_into_one_valid_gzip(tmp_path: Path) -> None:
    text = b"compressible line\n" * (CHUNK // 9)
    noise = os.urandom(CHUNK + 12345)
    path = tmp_path / "out.gz"
    with path.open("wb") as raw:
        writer = ParallelGzipWriter(raw, workers=3)
        for piece in (text[:1000], text[1000:], noise, b""):
            writer.write(piece)
        writer.close()
        writer.close()  # idempotent
    data = path.read_bytes()
    assert gzip.decompress(data) == text + noise
    assert writer.digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert len(data) < len(text) // 3 + len(noise) + 4096  # text deflated, noise stored
    if shutil.which("gzip"):
        assert subprocess.run(["gzip", "-t", str(path)]).returncode == 0


def test_empty_stream_is_a_valid_gzip(tmp_path: Path) -> None:
    raw = io.BytesIO()
    writer = ParallelGzipWriter(raw, workers=1)
    writer.close()
    assert gzip.decompress(raw.getvalue()) == b""


def test_pre_rollback_archive_reads_with_tar_and_python(tmp_path: Path) -> None:
    ws = small_workspace(tmp_path / "ws")
    (ws.root / "src" / "media" / "big.mp4").write_bytes(os.urandom(3 * CHUNK))
    archive = write_pre_rollback(
        ws, "production", ["src", "config"], ["**/__pycache__/**"], START, workers=2
    )
    assert archive.name == "pre_rollback_production_20260301_120000.tar.gz"
    with tarfile.open(archive) as opened:
        names = opened.getnames()
        member = opened.extractfile("src/media/big.mp4")
        assert member is not None
        assert member.read() == (ws.root / "src" / "media" / "big.mp4").read_bytes()
    assert "config/production/dhash.json" in names
    assert not any("__pycache__" in n for n in names)
    if shutil.which("tar"):
        listing = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True)
        assert listing.returncode == 0 and "src/media/big.mp4" in listing.stdout
    sidecar = ws.sidecar(archive).read_text()
    assert (
        sidecar == f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  rollbacks/{archive.name}\n"
    )
    second = write_pre_rollback(ws, "production", ["src"], [], START)
    assert second.name == "pre_rollback_production_20260301_120001.tar.gz"


def test_stored_members_are_valid_gzip_at_block_edges() -> None:
    from dhash_gha.adapters.archive.gzchunks import stored_member

    for size in (0, 1, 65534, 65535, 65536, 3 * 65535 + 7):
        data = os.urandom(size)
        assert gzip.decompress(stored_member(data)) == data
