"""deploy / smoke / status / service against the real example component on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from ops_helpers import COMPONENT_WRITES, ENV, fingerprint, set_fault, stop_all, tune_for_tests

from dhash_gha.adapters.workspace import Workspace

pytestmark = pytest.mark.slow
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def _cli(run_cli: Cli, root: Path, env: dict[str, str]) -> Callable[..., tuple[int, str, str]]:
    def run(*argv: str) -> tuple[int, str, str]:
        return run_cli("--root", str(root), *argv, environ=env)

    return run


def _health(root: Path) -> int:
    config = json.loads((root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))
    return httpx.get(config["health"]["url"], timeout=2).status_code


def _post_golden_images(root: Path) -> int:
    config = json.loads((root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))
    base = config["health"]["url"].rsplit("/", 1)[0]
    images = sorted((root / "golden").glob("*.png"))[:3]
    for image in images:
        response = httpx.post(f"{base}/hash", content=image.read_bytes(), timeout=10)
        assert response.status_code == 200, response.text
    return len(images)


def _rows(root: Path) -> int:
    with sqlite3.connect(root / "data" / ENV / "dhash.sqlite3") as conn:
        count: int = conn.execute("SELECT count(*) FROM hashes").fetchone()[0]
        return count


def test_good_release_is_deployed_healthy_and_smoke_passes(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    cli = _cli(run_cli, ws_root, {**clean_environ, "DHASH_GIT_COMMIT": commit})
    ws = Workspace.at(ws_root)
    ws.maintenance_flag(ENV).parent.mkdir(parents=True, exist_ok=True)
    ws.maintenance_flag(ENV).write_text("disk swap\n", encoding="utf-8")
    code, out, err = cli("deploy", "--env", ENV, "--no-monitor")
    assert code == 1 and "preflight failed: maintenance" in err
    assert "❌" in out and "maintenance flag set" in out
    assert not ws.release_record(ENV).exists() and not ws.pidfile(ENV).exists()

    code, out, err = cli("deploy", "--env", ENV, "--no-monitor", "--skip-preflight", "maintenance")
    assert code == 0, err
    assert "skipped (--skip-preflight)" in err
    record = json.loads(ws.release_record(ENV).read_text(encoding="utf-8"))
    assert record["migration_version"] == "0002"
    assert record["pre_deploy_backup"].startswith("backups/dhash_production_")
    assert (ws_root / record["pre_deploy_backup"]).is_file()
    assert len(record["config_sha256"]) == 64
    assert record["git_commit"] == commit and record["release_id"].endswith("-01234567")
    config = json.loads((ws_root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))
    metrics = httpx.get(config["metrics"]["url"], timeout=2).text
    assert f'git_commit="{commit}"' in metrics  # the supervisor passed DHASH_GIT_COMMIT
    history = [json.loads(x) for x in ws.deploy_history(ENV).read_text().splitlines()]
    assert history[-1]["type"] == "deploy" and history[-1]["release_id"] == record["release_id"]
    assert history[-1]["release_backup"].startswith("backups/")
    deploy_logs = list((ws_root / "logs").glob("deploy_production_*.log"))
    assert deploy_logs and "event=deploy_done" in deploy_logs[0].read_text()
    assert "event=preflight_check" in deploy_logs[0].read_text()
    assert _health(ws_root) == 200
    assert list(ws.notifications_dir.glob("*.json"))  # the deploy notification's audit record

    output = ws_root / "smoke.txt"
    for _ in range(2):
        code, out, err = cli("smoke", "--env", ENV, "--post-deploy", "--output", str(output))
        assert code == 0, out + err
    lines = output.read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("✅") for line in lines) == 2 * 7  # --output appends
    assert any("golden" in line for line in lines)

    code, out, _ = cli("smoke", "--env", ENV, "--post-rollback", "--json")
    payload = json.loads(out[: out.rindex("}") + 1])
    assert code == 0 and payload["ok"] and payload["phase"] == "post-rollback"
    health = next(c for c in payload["checks"] if c["name"] == "health")
    assert health["detail"].startswith("3/3 consecutive OK")

    code, out, _ = cli("status", "--env", ENV)
    assert code == 0
    assert record["release_id"] in out and "migrations:   0002" in out and "running (pid" in out

    code, out, _ = cli("service", "stop", "--env", ENV)
    assert code == 0 and not ws.pidfile(ENV).exists()
    code, out, err = cli("smoke", "--env", ENV, "--post-deploy")
    assert code == 1 and "❌" in out and "process" in err
    code, out, _ = cli("service", "start", "--env", ENV)
    assert code == 0 and _health(ws_root) == 200
    code, out, _ = cli("service", "status", "--env", ENV)
    assert code == 0 and "running (pid" in out


def test_release_failing_health_is_rolled_back_with_old_data(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    cli = _cli(run_cli, ws_root, clean_environ)
    ws = Workspace.at(ws_root)
    code, _, err = cli("deploy", "--env", ENV, "--no-monitor")
    assert code == 0, err
    good = json.loads(ws.release_record(ENV).read_text(encoding="utf-8"))
    assert _post_golden_images(ws_root) > 0
    stored = _rows(ws_root)
    assert stored > 0

    set_fault(ws_root, health_failing=True)  # the bad release: same code, health failing
    tune_for_tests(ws_root, deadline_seconds=3)
    code, out, err = cli("deploy", "--env", ENV, "--no-monitor")
    assert code == 3, out + err
    assert "never became healthy" in err and "rolled back automatically" in err
    assert _health(ws_root) == 200
    restored = json.loads(ws.release_record(ENV).read_text(encoding="utf-8"))
    assert restored["release_id"] == good["release_id"]
    config = json.loads((ws_root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))
    assert config["component"]["faults"]["health_failing"] is False
    assert _rows(ws_root) == stored  # the old release's data is still there
    history = [json.loads(x) for x in ws.deploy_history(ENV).read_text().splitlines()]
    assert [h["type"] for h in history] == ["deploy", "deploy", "rollback"]
    assert history[1]["ok"] is False and history[2]["ok"] and history[2]["automatic"]
    assert list((ws_root / "logs").glob("rollback_production_*.log"))
    assert list((ws_root / "rollbacks").glob("pre_rollback_production_*.tar.gz"))

    # the loop guard: a second automatic rollback of that release within the window pages instead
    from dhash_gha.adapters.clock import SystemClock
    from dhash_gha.adapters.reporter import Reporter
    from dhash_gha.errors import RollbackFailed
    from dhash_gha.steps.rollback import rollback

    before = fingerprint(ws_root, skip=(*COMPONENT_WRITES, "notifications/"))
    with pytest.raises(RollbackFailed, match="loop guard"):
        rollback(
            ws,
            ENV,
            backup="latest",
            environ=clean_environ,
            clock=SystemClock(),
            reporter=Reporter({}, quiet=True),
            force=True,
            automatic=True,
            release_id=history[1]["release_id"],
        )
    assert fingerprint(ws_root, skip=(*COMPONENT_WRITES, "notifications/")) == before
    pages = [json.loads(p.read_text()) for p in ws.notifications_dir.glob("*.json")]
    assert any("loop guard" in json.dumps(p) for p in pages)


def test_two_deploys_at_once_second_is_refused(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dhash_gha",
            "--root",
            str(ws_root),
            "deploy",
            "--env",
            ENV,
            "--no-monitor",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_environ,
    )
    try:
        lock_info = Workspace.at(ws_root).lock_info(ENV)
        import time

        deadline = time.monotonic() + 20
        while not lock_info.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lock_info.exists(), "the first deploy never took the lock"
        code, _, err = _cli(run_cli, ws_root, clean_environ)("deploy", "--env", ENV, "--no-monitor")
        assert code == 2
        assert f"locked by 'deploy' (pid {holder.pid}" in err and "since 20" in err
    finally:
        out, _ = holder.communicate(timeout=60)
    assert holder.returncode == 0, out


def test_deploy_then_monitors_the_release(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    gates = ws_root / "quality-gates-config.json"
    data = json.loads(gates.read_text(encoding="utf-8"))
    data["environments"][ENV]["schedule"] = {
        "duration_minutes": 0.05,
        "phases": [{"until_minute": 0.05, "interval_seconds": 1}],
    }
    gates.write_text(json.dumps(data, indent=2), encoding="utf-8")
    code, out, err = _cli(run_cli, ws_root, clean_environ)("deploy", "--env", ENV)
    assert code == 0, out + err
    monitor_logs = list((ws_root / "logs").glob("monitor_production_*.log"))
    assert monitor_logs and "event=monitor_start" in monitor_logs[0].read_text(encoding="utf-8")
    assert "event=poll" in monitor_logs[0].read_text(encoding="utf-8")
