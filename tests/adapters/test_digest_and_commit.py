"""Shared file digest, and the commit provenance records."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from dhash_gha.adapters.digest import READ_CHUNK, file_sha256
from dhash_gha.steps.provenance import git_commit


def test_file_sha256_across_chunk_boundaries(tmp_path: Path) -> None:
    data = bytes(range(256)) * (READ_CHUNK // 256 + 3)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_provenance_commit_prefers_github_sha(tmp_path: Path) -> None:
    assert git_commit(tmp_path, {"GITHUB_SHA": "b" * 40}) == "b" * 40
    assert git_commit(tmp_path, {}) is None


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_provenance_commit_reads_the_checkout(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(tmp_path), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    (tmp_path / "a").write_text("x", encoding="utf-8")
    git("add", "a")
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "c")
    assert git_commit(tmp_path, {}) == git("rev-parse", "HEAD")
