"""Host-managed start/stop commands: their relayed output never shows a configured secret."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from ops_helpers import ENV

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace

LEAK = "import os; print('url=' + os.environ.get('DHASH_SLACK_WEBHOOK_URL', 'unset'))"


@pytest.mark.parametrize("action", ["stop", "start"])
def test_host_command_output_is_redacted(
    example_workspace: Path, clean_environ: dict[str, str], action: str
) -> None:
    path = example_workspace / "config" / ENV / "dhash.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["component"]["process"] = {
        "manager": "commands",
        "cwd": ".",
        "start": [sys.executable, "-c", LEAK],
        "stop": [sys.executable, "-c", LEAK],
        "status": [sys.executable, "-c", "raise SystemExit(1)"],
    }
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    ws = Workspace.at(example_workspace)
    secret = "https://hooks.example.invalid/services/T0/SECRET-RELAY"
    environ = {**clean_environ, "DHASH_SLACK_WEBHOOK_URL": secret}
    out, err = io.StringIO(), io.StringIO()
    clock = SystemClock()
    reporter = Reporter(environ, stream=out, err_stream=err, clock=clock)
    log = reporter.attach_log(ws.log_file("service", ENV, clock.now()))
    command = supervisor.start if action == "start" else supervisor.stop
    command(ws, ENV, load_env_config(ws, ENV), environ=environ, clock=clock, reporter=reporter)
    everything = out.getvalue() + err.getvalue() + log.read_text(encoding="utf-8")
    assert "url=" in everything  # the command ran and its output was relayed
    assert "SECRET-RELAY" not in everything
