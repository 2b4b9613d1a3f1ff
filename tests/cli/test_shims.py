"""The runbook's scripts/*.sh shims pass every argument through to the CLI, spaces included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dhash-app"
SHIMS = {
    "backup_dhash.sh": ["backup", "create"],
    "deploy_dhash.sh": ["deploy"],
    "migrate_dhash.sh": ["migrate"],
    "smoke_tests.sh": ["smoke"],
    "rollback_dhash.sh": ["rollback"],
    "monitor_dhash.sh": ["monitor"],
    "notify_dhash.sh": ["notify"],
    "preflight_dhash.sh": ["preflight"],
}

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="POSIX sh not available")


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """A stand-in launcher that records its argv as JSON, so the shim's pass-through is visible."""
    script = tmp_path / "record.py"
    script.write_text("import json, sys\nprint(json.dumps(sys.argv[1:]))\n", encoding="utf-8")
    return script


def test_every_shim_is_tested() -> None:
    assert sorted(p.name for p in (EXAMPLE / "scripts").glob("*.sh")) == sorted(SHIMS)


@pytest.mark.parametrize(("shim", "command"), sorted(SHIMS.items()))
def test_shim_passes_arguments_through(shim: str, command: list[str], recorder: Path) -> None:
    args = [
        "--env",
        "production",
        "--output",
        "smoke results.txt",
        "--message",
        'a "quoted" $x `y`',
    ]
    env = dict(os.environ, DHASH_GHA=f"{sys.executable} {recorder}")
    result = subprocess.run(
        ["sh", str(EXAMPLE / "scripts" / shim), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=EXAMPLE,
        timeout=30,
        check=True,
    )
    argv = json.loads(result.stdout)
    assert argv[0] == "--root"
    assert Path(argv[1]).resolve() == EXAMPLE.resolve()
    assert argv[2:] == [*command, *args]


@pytest.mark.parametrize("shim", sorted(SHIMS))
def test_shim_is_executable_posix_sh(shim: str) -> None:
    path = EXAMPLE / "scripts" / shim
    assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert os.access(path, os.X_OK)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", "-s", "sh", str(path)], check=True, timeout=30)


def test_shim_runs_the_real_cli(tmp_path: Path) -> None:
    """The runbook line, as written, against the installed CLI (python -m form)."""
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns("backups", "logs", "data"))
    env = dict(os.environ, DHASH_GHA=f"{sys.executable} -m dhash_gha")
    result = subprocess.run(
        ["sh", "./scripts/smoke_tests.sh", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ws,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: dhash-gha smoke" in result.stdout
