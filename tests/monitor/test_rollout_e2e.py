"""``dhash-gha rollout`` end to end against the real example component."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dhash_gha.clock import SystemClock
from dhash_gha.config import load_env_config
from dhash_gha.release import read_history, read_release
from dhash_gha.reporter import Reporter
from dhash_gha.workspace import Workspace

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def workspace(example_workspace: Path, clean_environ: dict[str, str]) -> Iterator[Path]:
    yield example_workspace
    from dhash_gha import supervisor

    ws = Workspace.at(example_workspace)
    supervisor.stop(
        ws,
        "production",
        load_env_config(ws, "production"),
        environ=clean_environ,
        clock=SystemClock(),
        reporter=Reporter(clean_environ, quiet=True),
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_good_rollout_passes_and_a_bad_one_is_rolled_back(
    workspace: Path, run_cli: RunCli, clean_environ: dict[str, str], tmp_path: Path
) -> None:
    root = str(workspace)
    ws = Workspace.at(workspace)
    summary = tmp_path / "summary.md"
    environ = {**clean_environ, "GITHUB_STEP_SUMMARY": str(summary)}
    code, out, err = run_cli(
        "--root",
        root,
        "rollout",
        "--env",
        "production",
        "--time-scale",
        "600",
        "--duration",
        "2",
        environ=environ,
    )
    assert code == 0, err
    good = read_release(ws, "production")
    assert good is not None
    assert "[monitor production] poll 5/5" in out
    text = summary.read_text(encoding="utf-8")
    for step in ("backup", "deploy", "migrate", "smoke", "monitor"):
        assert f"| {step} |" in text
    assert "passed after 5 polls" in text
    assert list(ws.logs_dir.glob("rollout_production_*.log"))

    config_path = ws.env_config("production")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["component"]["faults"]["queue_flood"] = 1500
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    code, out, err = run_cli(
        "--root",
        root,
        "rollout",
        "--env",
        "production",
        "--time-scale",
        "600",
        "--duration",
        "2",
        environ=environ,
    )
    assert code == 3, err
    restored = read_release(ws, "production")
    assert restored is not None and restored["release_id"] == good["release_id"]
    assert "low_confidence_queue" in err
    text = summary.read_text(encoding="utf-8")
    assert re.search(r"\| post-rollback smoke \| \d+ checks passed \|", text)
    kinds = [entry.get("type") for entry in read_history(ws, "production")]
    assert kinds.count("deploy") == 2 and "rollback" in kinds
