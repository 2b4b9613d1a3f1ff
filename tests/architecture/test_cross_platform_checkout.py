"""A Windows checkout (core.autocrlf=true on GitHub's runners) keeps LF where it matters.

With CRLF the runbook shims break under sh (``"$@"\\r`` passes a stray
carriage return) and the checksums of migrations and configs differ between
runners. ``.gitattributes`` pins LF for every text file.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs a git checkout"
)


def eol_attribute(relative: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "check-attr", "eol", "--", relative],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        check=True,
    )
    return done.stdout.rsplit(":", 1)[-1].strip()


@pytest.mark.parametrize(
    "relative",
    [
        "examples/dhash-app/scripts/deploy_dhash.sh",
        "examples/dhash-app/migrations/0001_create_hashes.py",
        "examples/dhash-app/config/production/dhash.json",
        "dhash_gha/templates/dhash-deploy.yml",
        "tests/core/gates/monitor_logs/monitor_production_20261127_060254.log",
    ],
)
def test_text_files_check_out_with_lf(relative: str) -> None:
    assert (REPO / relative).exists()
    assert eol_attribute(relative) == "lf"


def test_images_are_binary() -> None:
    done = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "check-attr",
            "text",
            "--",
            "examples/dhash-app/golden/tiny_rgb.png",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        check=True,
    )
    assert done.stdout.rsplit(":", 1)[-1].strip() == "unset"
