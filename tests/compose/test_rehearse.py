"""The rehearsal: its pieces, and the whole run against the real example component."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dhash_gha.adapters.scratch import copy_example, example_source
from dhash_gha.compose.rehearse import (
    Rehearsal,
    private_environ,
    summary_lines,
    summary_markdown,
)

RunCli = Callable[..., tuple[int, str, str]]


def test_the_example_copy_gets_free_ports_and_no_runtime_state(tmp_path: Path) -> None:
    ports = iter([41001, 41002, 41003])
    ws = copy_example(tmp_path / "ws", port_for=lambda: next(ports))
    assert example_source().is_dir()
    seen = set()
    for env in ws.environments():
        config = json.loads(ws.env_config(env).read_text(encoding="utf-8"))
        port = config["component"]["port"]
        seen.add(port)
        assert config["health"]["url"] == f"http://127.0.0.1:{port}/healthz"
        assert config["metrics"]["url"] == f"http://127.0.0.1:{port}/metrics"
    assert len(seen) == len(ws.environments()) >= 2
    for runtime in ("backups", "logs", "incidents", ".dhash-state"):
        assert not (ws.root / runtime).exists()
    assert (ws.root / "quality-gates-config.json").is_file()


def test_the_rehearsal_never_sees_secrets_or_github_variables() -> None:
    environ = {
        "PATH": "/bin",
        "DHASH_SLACK_WEBHOOK_URL": "https://hooks.example/secret",
        "GITHUB_TOKEN": "t",
        "GH_TOKEN": "t",
        "GITHUB_ACTIONS": "true",
        "HOME": "/root",
    }
    assert private_environ(environ) == {"PATH": "/bin", "HOME": "/root"}


def test_the_summary_names_the_gate_its_value_and_the_times() -> None:
    result = Rehearsal(
        ok=True,
        timeline=[(0.1, "workspace ready"), (6.7, "gate extraction_failure_rate fired")],
        gate="extraction_failure_rate",
        value=42.5,
        threshold=5,
        unit="percent",
        detection_polls=2,
        detection_scaled_seconds=30.0,
        detection_seconds=0.5,
        healthy_again_seconds=4.0,
        total_seconds=13.0,
        time_scale=60,
    )
    text = "\n".join(summary_lines(result))
    assert "Gate fired: extraction_failure_rate = 42.5 % (threshold > 5 %)" in text
    assert "Detection: 2 polls, 30.0 s of monitoring (x60); 0.5 s real" in text
    assert "Healthy again: 4.0 s after the gate fired" in text
    assert "Rehearsal PASSED in 13.0 s" in text
    assert "| +6.7 s | gate extraction_failure_rate fired |" in summary_markdown(result)
    failed = Rehearsal(problem="the monitor did not catch the bad release", kept=True,
                       workspace=Path("/tmp/x"))  # fmt: skip
    text = "\n".join(summary_lines(failed))
    assert "FAILED: the monitor did not catch the bad release" in text
    assert "Workspace kept for inspection: /tmp/x" in text


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_rehearse_catches_the_bad_release_and_is_healthy_again(
    run_cli: RunCli, clean_environ: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kept workspace lands in tmp_path
    monkeypatch.setattr(tempfile, "tempdir", None)
    code, out, err = run_cli("rehearse", "--keep", "--time-scale", "120", environ=clean_environ)
    assert code == 0, err
    assert "Gate fired: extraction_failure_rate" in out
    assert "Rehearsal PASSED" in out
    kept = [line.split(": ", 1)[1] for line in out.splitlines()
            if line.startswith("Workspace kept for inspection: ")]  # fmt: skip
    assert kept
    workspace = Path(kept[0])
    assert workspace.is_relative_to(tmp_path)
    assert list((workspace / "incidents").glob("INC-*/report.md"))
    assert list((workspace / "logs").glob("rollback_production_*.log"))
    release = json.loads((workspace / "deployments/production/current_release.json").read_text())
    history = [
        json.loads(line)
        for line in (workspace / ".dhash-state/production/deploy_history.jsonl")
        .read_text()
        .splitlines()
    ]
    first_deploy = next(entry for entry in history if entry.get("type") == "deploy")
    assert release["release_id"] == first_deploy["release_id"]
