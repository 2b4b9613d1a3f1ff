"""The runbook's lines, verbatim, from the workspace root, against the real component."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_helpers import ENV, stop_all, tune_for_tests

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32" or not shutil.which("sh"), reason="POSIX shell"),
]

RUNBOOK = """
set -e
./scripts/preflight_dhash.sh --env production
./scripts/deploy_dhash.sh --env production
./scripts/migrate_dhash.sh --env production --type forward
./scripts/smoke_tests.sh --env production --post-deploy --output smoke_results.txt
LATEST_BACKUP=$(ls -1 backups/dhash_production_*.zip | sort -r | head -n1)
sha256sum -c "${LATEST_BACKUP}.sha256"
./scripts/rollback_dhash.sh --backup "$LATEST_BACKUP" --env production --force
./scripts/smoke_tests.sh --env production --post-rollback --output smoke_results.txt
"""


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    gates = example_workspace / "quality-gates-config.json"
    data = json.loads(gates.read_text(encoding="utf-8"))
    data["environments"][ENV]["schedule"] = {  # the monitor after deploy: 3 s, not an hour
        "duration_minutes": 0.05,
        "phases": [{"until_minute": 0.05, "interval_seconds": 1}],
    }
    gates.write_text(json.dumps(data, indent=2), encoding="utf-8")
    yield example_workspace
    stop_all(example_workspace)


@pytest.mark.skipif(not shutil.which("sha256sum"), reason="coreutils sha256sum")
def test_runbook_lines_run_verbatim(ws_root: Path, clean_environ: dict[str, str]) -> None:
    env = {**clean_environ, "DHASH_GHA": f"{sys.executable} -m dhash_gha"}
    done = subprocess.run(
        ["sh", "-c", RUNBOOK], cwd=ws_root, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = (ws_root / "smoke_results.txt").read_text(encoding="utf-8")
    assert "# smoke post-deploy production" in results
    assert "# smoke post-rollback production" in results
    assert "❌" not in results
    assert ": OK" in done.stdout  # sha256sum -c accepted the sidecar
    assert "rolled back to backups/dhash_production_" in done.stdout
