"""``dhash-gha rollout`` end to end against the real example component."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.releases import read_history, read_release
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def workspace(example_workspace: Path, clean_environ: dict[str, str]) -> Iterator[Path]:
    yield example_workspace
    from dhash_gha.adapters import supervisor

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
    # At x600 a poll that takes long on a busy machine can swallow the next one; the
    # schedule's last poll (at the end of the duration) always happens.
    assert re.search(r"\[monitor production\] poll [2-5]/5 at 02:", out)
    text = summary.read_text(encoding="utf-8")
    for step in ("backup", "deploy", "migrate", "smoke", "monitor"):
        assert f"| {step} |" in text
    assert re.search(r"\| monitor \| passed after [2-5] polls \|", text)
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


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_failed_post_deploy_smoke_rolls_back_before_monitoring(
    workspace: Path, run_cli: RunCli, clean_environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import dhash_gha.compose.rollout
    import dhash_gha.steps.smoke
    from dhash_gha.core.checklist import CheckResult

    real_smoke = dhash_gha.steps.smoke.run_smoke
    phases: list[bool] = []

    def smoke(*args: object, post_rollback: bool, **kwargs: object) -> list[CheckResult]:
        phases.append(post_rollback)
        if post_rollback:
            return real_smoke(*args, post_rollback=post_rollback, **kwargs)  # type: ignore[arg-type]
        return [CheckResult("golden", False, "3 golden images hash differently", "fix hashing")]

    ws = Workspace.at(workspace)
    code, _, err = run_cli("--root", str(workspace), "deploy", "--env", "production",
                           "--no-monitor", environ=clean_environ)  # fmt: skip
    assert code == 0, err  # a good release runs; the next one fails its smoke tests
    good = read_release(ws, "production")
    monkeypatch.setattr(dhash_gha.compose.rollout, "run_smoke", smoke)
    code, _, err = run_cli("--root", str(workspace), "rollout", "--env", "production",
                           "--time-scale", "600", "--duration", "1", environ=clean_environ)  # fmt: skip
    assert code == 3, err
    assert "post-deploy smoke tests failed (golden: 3 golden images hash differently)" in err
    assert phases == [False, True]
    assert not list(ws.logs_dir.glob("monitor_*.log"))  # never monitored
    kinds = [entry.get("type") for entry in read_history(ws, "production")]
    assert kinds == ["deploy", "deploy", "rollback"]
    restored = read_release(ws, "production")
    assert good is not None and restored is not None
    assert restored["release_id"] == good["release_id"]
    assert list(ws.incidents_dir.glob("INC-*"))
    rollout_log = next(ws.logs_dir.glob("rollout_production_*.log")).read_text(encoding="utf-8")
    assert "event=rollback_done" in rollout_log


def test_failing_post_rollback_smoke_is_rollback_failed(
    example_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dhash_gha.compose.rollout
    from dhash_gha.compose.rollout import _post_rollback_smoke
    from dhash_gha.core.checklist import CheckResult
    from dhash_gha.errors import RollbackFailed

    monkeypatch.setattr(
        dhash_gha.compose.rollout, "run_smoke",
        lambda *a, **k: [CheckResult("health", False, "HTTP 503", "look at the service log")],
    )  # fmt: skip
    steps: list[tuple[str, str]] = []
    with pytest.raises(RollbackFailed) as info:
        _post_rollback_smoke(Workspace.at(example_workspace), "production", SystemClock(),
                             Reporter({}, quiet=True), lambda *s: steps.append(s))  # fmt: skip
    assert info.value.exit_code == 4
    assert "post-rollback smoke tests fail: health: HTTP 503" in info.value.message
    assert info.value.tip == "look at the service log"
    assert steps == [("post-rollback smoke", "failed: health")]
