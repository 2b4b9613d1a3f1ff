"""What goes wrong, on the real component: each failure says so and leaves a consistent env."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from ops_helpers import COMPONENT_WRITES, ENV, fingerprint, set_fault, stop_all, tune_for_tests

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace

pytestmark = pytest.mark.slow
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def _config(root: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))


def _write_config(root: Path, data: dict) -> None:  # type: ignore[type-arg]
    (root / "config" / ENV / "dhash.json").write_text(json.dumps(data, indent=2))


def _deploy(run_cli: Cli, root: Path, env: dict[str, str]) -> tuple[int, str, str]:
    return run_cli("--root", str(root), "deploy", "--env", ENV, "--no-monitor", environ=env)


def test_build_failure_keeps_the_old_release_running(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    assert _deploy(run_cli, ws_root, clean_environ)[0] == 0
    ws = Workspace.at(ws_root)
    record = ws.release_record(ENV).read_bytes()
    pid = json.loads(ws.pidfile(ENV).read_text())["pid"]
    config = _config(ws_root)
    config["component"]["build_command"] = [
        "{python}",
        "-c",
        "import sys; print('syntax error in dhash_app'); sys.exit(4)",
    ]
    _write_config(ws_root, config)
    code, out, err = _deploy(run_cli, ws_root, clean_environ)
    assert code == 1
    assert "build failed with exit code 4: syntax error in dhash_app" in err
    assert "build| syntax error in dhash_app" in out  # the command's output is relayed
    assert ws.release_record(ENV).read_bytes() == record
    assert json.loads(ws.pidfile(ENV).read_text())["pid"] == pid
    last = json.loads(ws.deploy_history(ENV).read_text().splitlines()[-1])
    assert last["ok"] is False and last["stage"] == "build" and last["running_release_untouched"]
    assert httpx.get(config["health"]["url"], timeout=2).status_code == 200


def test_first_release_never_healthy_stops_it_and_says_nothing_to_roll_back(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    set_fault(ws_root, health_failing=True)
    tune_for_tests(ws_root, deadline_seconds=2)
    code, _, err = _deploy(run_cli, ws_root, clean_environ)
    assert code == 1
    assert "never became healthy" in err and "nothing to roll back to" in err
    ws = Workspace.at(ws_root)
    assert not ws.pidfile(ENV).exists() and not ws.release_record(ENV).exists()
    history = [json.loads(x) for x in ws.deploy_history(ENV).read_text().splitlines()]
    assert history[-1]["ok"] is False


def test_failed_automatic_rollback_exits_4_and_pages(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    assert _deploy(run_cli, ws_root, clean_environ)[0] == 0
    ws = Workspace.at(ws_root)
    # the bad release also brings an irreversible migration: going back past it is refused
    (ws_root / "migrations" / "0003_rewrite.py").write_text(
        "IRREVERSIBLE = True\n"
        "def forward(conn):\n    conn.execute('CREATE TABLE rewritten (x)')\n"
        "def backward(conn):\n    conn.execute('DROP TABLE rewritten')\n",
        encoding="utf-8",
    )
    set_fault(ws_root, health_failing=True)
    tune_for_tests(ws_root, deadline_seconds=2)
    code, _, err = _deploy(run_cli, ws_root, clean_environ)
    assert code == 4, err
    assert "never became healthy" not in err or "IRREVERSIBLE" in err
    assert "0003_rewrite is IRREVERSIBLE" in err
    pages = [json.loads(p.read_text()) for p in ws.notifications_dir.glob("*.json")]
    assert any("IRREVERSIBLE" in json.dumps(p) for p in pages)


def test_rollback_past_an_irreversible_migration_is_refused_and_pages(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    assert _deploy(run_cli, ws_root, clean_environ)[0] == 0
    (ws_root / "migrations" / "0003_drop_legacy.py").write_text(
        "IRREVERSIBLE = True\nDESCRIPTION = 'drop a column for good'\n"
        "def forward(conn):\n    conn.execute('CREATE TABLE legacy_gone (x)')\n"
        "def backward(conn):\n    conn.execute('DROP TABLE legacy_gone')\n",
        encoding="utf-8",
    )
    code, _, err = _deploy(run_cli, ws_root, clean_environ)
    assert code == 0, err
    ws = Workspace.at(ws_root)
    record = json.loads(ws.release_record(ENV).read_text())
    assert record["migration_version"] == "0003"
    before = fingerprint(ws_root, skip=(*COMPONENT_WRITES, "notifications/"))
    code, _, err = run_cli(
        "--root",
        str(ws_root),
        "rollback",
        "--env",
        ENV,
        "--backup",
        record["pre_deploy_backup"],
        "--force",
        environ=clean_environ,
    )
    assert code == 4
    assert "0003_drop_legacy is IRREVERSIBLE" in err and "paged" in err
    assert fingerprint(ws_root, skip=(*COMPONENT_WRITES, "notifications/")) == before
    pages = [json.loads(p.read_text()) for p in ws.notifications_dir.glob("*.json")]
    assert any("IRREVERSIBLE" in json.dumps(p) for p in pages)


def test_golden_mismatch_fails_the_smoke_test(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    assert _deploy(run_cli, ws_root, clean_environ)[0] == 0
    expected = ws_root / "golden" / "expected.json"
    data = json.loads(expected.read_text())
    text = json.dumps(data)
    first_hash = next(
        v for v in _strings(data) if len(v) == 16 and all(c in "0123456789abcdef" for c in v)
    )
    expected.write_text(text.replace(first_hash, "0" * 16, 1))
    code, out, _ = run_cli(
        "--root", str(ws_root), "smoke", "--env", ENV, "--post-deploy", environ=clean_environ
    )
    assert code == 1
    golden = next(line for line in out.splitlines() if " golden: " in line)
    assert golden.startswith("❌") and "mismatch" in golden


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


SERVICE_SCRIPT = """
import json, os, subprocess, sys
root, env, action = sys.argv[1:4]
pidfile = os.path.join(root, "host-manager.pid")
if action == "start":
    child = subprocess.Popen([sys.executable, "-m", "dhash_app", "serve", "--root", root, "--env", env],
                             cwd=os.path.join(root, "src"), start_new_session=True,
                             stdout=open(os.path.join(root, "host.out"), "ab"), stderr=subprocess.STDOUT)
    open(pidfile, "w").write(str(child.pid))
elif action == "stop":
    import signal
    os.kill(int(open(pidfile).read()), signal.SIGTERM)
    os.remove(pidfile)
else:
    if not os.path.exists(pidfile):
        sys.exit(3)
    try:
        os.kill(int(open(pidfile).read()), 0)
    except OSError:
        sys.exit(3)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the host manager script uses POSIX signals")
def test_configured_commands_manage_the_component(ws_root: Path) -> None:
    from dhash_gha.adapters import supervisor
    from dhash_gha.adapters.migrations import migrate
    from dhash_gha.adapters.readiness import wait_healthy

    (ws_root / "host_manager.py").write_text(SERVICE_SCRIPT, encoding="utf-8")
    config = _config(ws_root)
    command = ["{python}", "{root}/host_manager.py", "{root}", "{env}"]
    config["component"]["process"] = {
        "manager": "commands",
        "cwd": ".",
        "start": [*command, "start"],
        "stop": [*command, "stop"],
        "status": [*command, "status"],
    }
    _write_config(ws_root, config)
    ws = Workspace.at(ws_root)
    config = load_env_config(ws, ENV)
    clock, reporter = SystemClock(), Reporter({}, quiet=True)
    assert not supervisor.status(ws, ENV, config, clock=clock).running
    migrate(ws, ENV, "forward", clock=clock, reporter=reporter)  # the component needs its schema
    started = supervisor.start(ws, ENV, config, environ={}, clock=clock, reporter=reporter)
    try:
        assert started.running and started.pid is None
        assert wait_healthy(config, clock=clock, reporter=reporter).ok
    finally:
        stopped = supervisor.stop(ws, ENV, config, environ={}, clock=clock, reporter=reporter)
    assert not stopped.running
    assert not ws.pidfile(ENV).exists()  # the host's manager owns the process, not us
