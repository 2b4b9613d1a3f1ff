"""preflight: each check's ✅ and ❌ (with its fix), on a workspace with nothing deployed."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from ops_helpers import ENV

from dhash_gha.adapters.workspace import Workspace
from dhash_gha.steps.preflight import CHECKS, disk_needed, reachable

Cli = Callable[..., tuple[int, str, str]]


def _preflight(run_cli: Cli, root: Path, env: dict[str, str]) -> tuple[int, str, str]:
    return run_cli("--root", str(root), "preflight", "--env", ENV, environ=env)


def _line(out: str, check: str) -> str:
    return next(line for line in out.splitlines() if f" {check}: " in line)


def test_first_deploy_passes_every_check(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    code, out, err = _preflight(run_cli, example_workspace, clean_environ)
    assert code == 0, out + err
    for check in CHECKS:
        assert _line(out, check).startswith("✅")
    assert "first deploy" in _line(out, "release-health")
    assert "no backup yet (first deploy)" in _line(out, "backup")
    assert "DHASH_SLACK_WEBHOOK_URL not set" in _line(out, "webhooks")
    assert list((example_workspace / "logs").glob("preflight_production_*.log"))


def test_maintenance_incident_and_unhealthy_release_fail_with_fixes(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    ws = Workspace.at(example_workspace)
    ws.maintenance_flag(ENV).parent.mkdir(parents=True, exist_ok=True)
    ws.maintenance_flag(ENV).write_text("storage migration until 14:00\n", encoding="utf-8")
    incident = ws.incidents_dir / "INC-20260101-000000"
    incident.mkdir(parents=True)
    other_env = ws.incidents_dir / "INC-20260101-000001"
    other_env.mkdir()
    (other_env / "incident.json").write_text(json.dumps({"environment": "staging"}))
    ws.release_record(ENV).write_text(json.dumps({"release_id": "r-old"}), encoding="utf-8")
    code, out, _ = _preflight(run_cli, example_workspace, clean_environ)
    assert code == 1
    maintenance = _line(out, "maintenance")
    assert maintenance.startswith("❌") and "storage migration until 14:00" in maintenance
    assert (
        "fix: finish the maintenance, then remove deployments/production/MAINTENANCE" in maintenance
    )
    incidents = _line(out, "incidents")
    assert incidents.startswith("❌") and "INC-20260101-000000" in incidents
    assert "INC-20260101-000001" not in incidents  # another environment's incident
    assert "RESOLVED" in incidents
    release = _line(out, "release-health")
    assert release.startswith("❌") and "r-old is recorded but not running" in release

    (incident / "RESOLVED").write_text("root cause fixed\n", encoding="utf-8")
    ws.maintenance_flag(ENV).unlink()
    ws.release_record(ENV).unlink()
    code, out, _ = _preflight(run_cli, example_workspace, clean_environ)
    assert code == 0, out


def test_tampered_latest_backup_fails(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    code, _, err = run_cli(
        "--root", str(example_workspace), "backup", "create", "--env", ENV, environ=clean_environ
    )
    assert code == 0, err
    latest = Workspace.at(example_workspace).backups(ENV)[0]
    data = bytearray(latest.read_bytes())
    data[100] ^= 0x01
    latest.write_bytes(bytes(data))
    code, out, _ = _preflight(run_cli, example_workspace, clean_environ)
    assert code == 1
    assert _line(out, "backup").startswith("❌") and latest.name in _line(out, "backup")


class Listener(NamedTuple):
    port: int
    received: list[bytes]


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A TCP server that records whatever a client sends (it must be nothing)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(5)
    received: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(1)
            with contextlib.suppress(OSError):
                received.append(conn.recv(1024))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield Listener(server.getsockname()[1], received)
    thread.join(timeout=5)
    server.close()


def test_webhooks_are_probed_by_connect_only_and_never_printed(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str], listener: Listener
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    slack = f"http://127.0.0.1:{listener.port}/services/T000/SECRET-SLACK-PATH"
    webhook = f"http://127.0.0.1:{dead_port}/hooks/SECRET-HOOK-PATH"
    env = {**clean_environ, "DHASH_SLACK_WEBHOOK_URL": slack, "DHASH_WEBHOOK_URL": webhook}
    code, out, err = _preflight(run_cli, example_workspace, env)
    assert code == 1
    line = _line(out, "webhooks")
    assert line.startswith("❌")
    assert "pager-webhook ($DHASH_WEBHOOK_URL): TCP connect" in line
    assert "reachable: ops-slack" in line
    everything = (
        out
        + err
        + "".join(p.read_text(encoding="utf-8") for p in (example_workspace / "logs").glob("*.log"))
    )
    assert "SECRET" not in everything
    assert listener.received in ([], [b""])  # connected, nothing posted


def test_reachable_reports_dns_and_scheme_problems() -> None:
    assert reachable("http://host.invalid/hook", 1.0) == "host name does not resolve (DNS)"
    assert reachable("ftp://example.org/x", 1.0) == "not an http(s) URL"


def test_disk_check(
    example_workspace: Path,
    run_cli: Cli,
    clean_environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert disk_needed(10) == 20 + 64 * 1024 * 1024
    usage = shutil.disk_usage(example_workspace)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=1024))
    code, out, _ = _preflight(run_cli, example_workspace, clean_environ)
    assert code == 1
    assert _line(out, "disk").startswith("❌") and "0.0 MiB free" in _line(out, "disk")


def test_json_output_and_unknown_environment(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    code, out, _ = run_cli(
        "--root", str(example_workspace), "preflight", "--env", ENV, "--json", environ=clean_environ
    )
    payload = json.loads(out)
    assert code == 0 and payload["ok"] and [c["name"] for c in payload["checks"]] == list(CHECKS)
    code, _, err = run_cli(
        "--root", str(example_workspace), "preflight", "--env", "prodution", environ=clean_environ
    )
    assert code == 2 and "did you mean 'production'" in err
    assert not list((example_workspace / "logs").glob("preflight_prodution_*"))


def test_job_summary_on_actions(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str], tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    env = {**clean_environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    code, _, _ = _preflight(run_cli, example_workspace, env)
    assert code == 0
    text = summary.read_text(encoding="utf-8")
    assert "### Preflight: production" in text
    assert all(f"| ✅ | {check} |" in text for check in CHECKS)
