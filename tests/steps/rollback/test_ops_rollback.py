"""rollback against the real example component: refusals, a tampered backup, SIGKILL and re-run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from ops_helpers import COMPONENT_WRITES, ENV, fingerprint, stop_all, tune_for_tests

from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import BadInput
from dhash_gha.steps.rollback import recent_automatic_rollback, resolve_backup

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def _health_ok(root: Path) -> bool:
    config = json.loads((root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))
    try:
        return httpx.get(config["health"]["url"], timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _deploy(run_cli: Cli, root: Path, environ: dict[str, str]) -> None:
    code, out, err = run_cli(
        "--root", str(root), "deploy", "--env", ENV, "--no-monitor", environ=environ
    )
    assert code == 0, out + err


@pytest.mark.parametrize(
    "value",
    [
        "../x",
        "$(id)",
        "backups/../config/production/dhash.json",
        "backups/dhash_staging_20260101_000000.zip",
        "/etc/passwd",
        "backups/dhash_production_20260101_000000.zip",
    ],
)
def test_backup_argument_must_be_this_envs_backup_inside_backups(
    example_workspace: Path, run_cli: Cli, value: str
) -> None:
    ws = Workspace.at(example_workspace)
    ws.backups_dir.mkdir()
    (ws.backups_dir / "dhash_staging_20260101_000000.zip").write_bytes(b"PK")
    before = fingerprint(example_workspace)
    code, _, err = run_cli(
        "--root", str(example_workspace), "rollback", "--env", ENV, "--backup", value, "--force"
    )
    assert code == 2
    assert "backup" in err and "tip:" in err
    assert fingerprint(example_workspace) == before


def test_resolve_backup_accepts_the_runbook_forms(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    ws.backups_dir.mkdir()
    older = ws.backups_dir / "dhash_production_20260101_000000.zip"
    newer = ws.backups_dir / "dhash_production_20260102_000000.zip"
    for path in (older, newer):
        path.write_bytes(b"PK")
    assert resolve_backup(ws, ENV, "latest") == newer
    assert resolve_backup(ws, ENV, f"backups/{older.name}") == older.resolve()
    assert resolve_backup(ws, ENV, str(older)) == older.resolve()
    with pytest.raises(BadInput, match="no backup of 'staging'"):
        resolve_backup(ws, "staging", "latest")


def test_without_a_terminal_rollback_refuses_unless_forced(
    example_workspace: Path, run_cli: Cli
) -> None:
    ws = Workspace.at(example_workspace)
    ws.backups_dir.mkdir()
    (ws.backups_dir / "dhash_production_20260101_000000.zip").write_bytes(b"PK")
    before = fingerprint(example_workspace)
    code, _, err = run_cli("--root", str(example_workspace), "rollback", "--env", ENV)
    assert code == 2 and "no terminal" in err and "--force" in err
    assert fingerprint(example_workspace) == before


def test_loop_guard_window() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    entry = {
        "type": "rollback",
        "automatic": True,
        "rolled_back_release": "r1",
        "at": (now - timedelta(minutes=59)).isoformat().replace("+00:00", "Z"),
    }
    assert recent_automatic_rollback([entry], "r1", now, 60) == entry
    assert recent_automatic_rollback([entry], "r1", now, 58) is None
    assert recent_automatic_rollback([entry], "r2", now, 60) is None
    assert recent_automatic_rollback([{**entry, "automatic": False}], "r1", now, 60) is None


@pytest.mark.slow
def test_tampered_backup_is_refused_and_nothing_is_touched(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    _deploy(run_cli, ws_root, clean_environ)
    ws = Workspace.at(ws_root)
    latest = ws.backups(ENV)[0]
    data = bytearray(latest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    latest.write_bytes(bytes(data))
    pid = json.loads(ws.pidfile(ENV).read_text())["pid"]
    before = fingerprint(ws_root, skip=COMPONENT_WRITES)
    code, out, err = run_cli(
        "--root",
        str(ws_root),
        "rollback",
        "--env",
        ENV,
        "--backup",
        f"backups/{latest.name}",
        "--force",
        environ=clean_environ,
    )
    assert code in (1, 2), out + err
    assert latest.name in err
    assert fingerprint(ws_root, skip=COMPONENT_WRITES) == before
    assert json.loads(ws.pidfile(ENV).read_text())["pid"] == pid and _health_ok(ws_root)


ROLLBACK_MARKERS = [
    "stopped the component",
    "restored; previous state archived",
    "started the component",
]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("kill_after", ROLLBACK_MARKERS)
def test_sigkill_mid_rollback_then_rerun_is_consistent_and_healthy(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str], kill_after: str
) -> None:
    _deploy(run_cli, ws_root, clean_environ)
    ws = Workspace.at(ws_root)
    target = ws.backups(ENV)[0]
    good_config = (ws_root / "config" / ENV / "dhash.json").read_bytes()
    (ws_root / "src" / "dhash_app" / "stray_new_file.py").write_text("x = 1\n", encoding="utf-8")
    tool = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dhash_gha",
            "--root",
            str(ws_root),
            "rollback",
            "--env",
            ENV,
            "--backup",
            f"backups/{target.name}",
            "--force",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_environ,
    )
    assert tool.stdout is not None
    seen = []
    deadline = time.monotonic() + 60
    for line in tool.stdout:
        seen.append(line)
        if kill_after in line or time.monotonic() > deadline:
            break
    tool.kill()
    tool.wait()
    assert any(kill_after in line for line in seen), "".join(seen)

    code, out, err = run_cli(
        "--root",
        str(ws_root),
        "rollback",
        "--env",
        ENV,
        "--backup",
        f"backups/{target.name}",
        "--force",
        environ=clean_environ,
    )
    assert code == 0, out + err
    assert _health_ok(ws_root)
    assert not (ws_root / "src" / "dhash_app" / "stray_new_file.py").exists()
    assert (ws_root / "config" / ENV / "dhash.json").read_bytes() == good_config
    assert not list(ws_root.glob(".dhash-restore-*"))
    code, out, err = run_cli(
        "--root", str(ws_root), "smoke", "--env", ENV, "--post-rollback", environ=clean_environ
    )
    assert code == 0, out + err


@pytest.mark.slow
def test_dry_run_of_each_command_changes_no_file(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    _deploy(run_cli, ws_root, clean_environ)
    (ws_root / "src" / "dhash_app" / "new_feature.py").write_text("y = 2\n", encoding="utf-8")
    before = fingerprint(ws_root, skip=COMPONENT_WRITES)
    commands = [
        ["deploy", "--env", ENV, "--dry-run"],
        ["deploy", "--env", ENV, "--dry-run", "--no-backup", "--no-monitor"],
        ["rollback", "--env", ENV, "--dry-run"],
        ["rollback", "--env", ENV, "--dry-run", "--backup", "latest", "--force"],
        ["migrate", "--env", ENV, "--type", "backward", "--dry-run"],
        ["migrate", "--env", ENV, "--type", "forward", "--dry-run"],
        ["migrate", "--env", ENV, "--type", "backward", "--to", "0000", "--dry-run"],
    ]
    outputs = []
    for argv in commands:
        code, out, err = run_cli("--root", str(ws_root), *argv, environ=clean_environ)
        assert code == 0, f"{argv}: {out}{err}"
        outputs.append(out)
        assert fingerprint(ws_root, skip=COMPONENT_WRITES) == before, argv
    assert "deploy plan" in outputs[0] and "snapshot of running release" in outputs[0]
    assert "rollback plan" in outputs[2] and "migrate 0002 → 0002" in outputs[2]
    assert "would run backward 0002_add_media_kind" in outputs[4]
    assert "would run backward 0001_create_hashes" in outputs[6]


def test_declined_confirmation_changes_nothing(example_workspace: Path) -> None:
    from dhash_gha.adapters.reporter import Reporter
    from dhash_gha.core.clock import FakeClock
    from dhash_gha.steps.rollback import rollback

    ws = Workspace.at(example_workspace)
    ws.backups_dir.mkdir()
    (ws.backups_dir / "dhash_production_20260101_000000.zip").write_bytes(b"PK")
    before = fingerprint(example_workspace)
    asked: list[str] = []

    def decline(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(BadInput, match="not confirmed"):
        rollback(
            ws,
            ENV,
            environ={},
            clock=FakeClock(),
            reporter=Reporter({}, quiet=True),
            force=False,
            confirm=decline,
        )
    assert asked == [
        "Roll 'production' back to backups/dhash_production_20260101_000000.zip? [y/N] "
    ]
    assert fingerprint(example_workspace) == before


@pytest.mark.slow
def test_manual_tar_backup_needs_unverified(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    import tarfile

    _deploy(run_cli, ws_root, clean_environ)
    ws = Workspace.at(ws_root)
    # the runbook's emergency backup: tar -czf backups/dhash_production_manual_….tar.gz src config deployments
    manual = ws.backups_dir / "dhash_production_manual_20260101_000000.tar.gz"
    with tarfile.open(manual, "w:gz") as archive:
        for top in ("src", "config", "deployments"):
            archive.add(
                ws_root / top,
                arcname=top,
                filter=lambda info: (
                    None if "__pycache__" in info.name or info.name.endswith(".pid") else info
                ),
            )
    (ws_root / "src" / "dhash_app" / "after_the_tar.py").write_text("z = 3\n", encoding="utf-8")
    argv = [
        "--root",
        str(ws_root),
        "rollback",
        "--env",
        ENV,
        "--backup",
        f"backups/{manual.name}",
        "--force",
    ]
    code, _, err = run_cli(*argv, environ=clean_environ)
    assert code == 2 and "--unverified" in err
    assert (ws_root / "src" / "dhash_app" / "after_the_tar.py").exists()
    code, out, err = run_cli(*argv, "--unverified", environ=clean_environ)
    assert code == 0, out + err
    assert not (ws_root / "src" / "dhash_app" / "after_the_tar.py").exists()
    assert _health_ok(ws_root)
    log = next((ws_root / "logs").glob("rollback_production_*.log")).read_text(encoding="utf-8")
    assert "unverified=true" in log and "UNVERIFIED" in err


def test_automatic_rollback_to_a_bad_backup_pages_and_touches_nothing(
    example_workspace: Path,
) -> None:
    from dhash_gha.adapters.archive import create_backup
    from dhash_gha.adapters.clock import SystemClock
    from dhash_gha.adapters.reporter import Reporter
    from dhash_gha.errors import RollbackFailed
    from dhash_gha.steps.rollback import rollback

    ws = Workspace.at(example_workspace)
    quiet = Reporter({}, quiet=True)
    made = create_backup(ws, ENV, clock=SystemClock(), reporter=quiet)
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    made.path.write_bytes(bytes(data))
    before = fingerprint(example_workspace, skip=("notifications/",))
    with pytest.raises(RollbackFailed, match=r"does not verify.*nothing was touched"):
        rollback(
            ws,
            ENV,
            backup="latest",
            environ={},
            clock=SystemClock(),
            reporter=quiet,
            force=True,
            automatic=True,
            release_id="r-bad",
        )
    assert fingerprint(example_workspace, skip=("notifications/",)) == before
    pages = [json.loads(p.read_text()) for p in ws.notifications_dir.glob("*.json")]
    assert any("critical" in json.dumps(p) and made.path.name in json.dumps(p) for p in pages)
