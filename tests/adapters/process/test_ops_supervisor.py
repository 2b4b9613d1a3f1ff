"""The built-in supervisor's decisions that do not need a running component."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dhash_gha.adapters import procs, supervisor
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock
from dhash_gha.errors import CheckFailed


def test_windows_process_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200, raising=False)
    monkeypatch.setattr(subprocess, "DETACHED_PROCESS", 0x8, raising=False)
    assert supervisor.detached_kwargs() == {"creationflags": 0x208}
    assert procs.new_group_kwargs() == {"creationflags": 0x200}
    argv = ["python", "-m", "dhash_app"]
    # no exec-in-place on Windows: the supervisor writes the pidfile itself
    assert supervisor.launch_argv(argv, Path("x.pid"), "t", "production") == argv


def test_posix_launch_goes_through_the_pidfile_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    argv = supervisor.launch_argv(
        ["prog", "--flag"], Path("/ws/d.pid"), "2026-01-01T00:00:00Z", "e"
    )
    assert argv[:2] == [sys.executable, "-c"]
    assert argv[3:] == ["/ws/d.pid", "2026-01-01T00:00:00Z", "e", "prog", "--flag"]
    assert supervisor.detached_kwargs() == {"start_new_session": True}


def test_start_refuses_a_port_taken_by_another_process(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    config = load_env_config(ws, "staging")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(config["component"]["port"])))
        squatter.listen()
        with pytest.raises(CheckFailed, match="already in use by another process"):
            supervisor.start(
                ws,
                "staging",
                config,
                environ={},
                clock=FakeClock(),
                reporter=Reporter({}, quiet=True),
            )
    assert not ws.pidfile("staging").exists()


def test_status_of_a_stale_or_unreadable_pidfile(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    config = load_env_config(ws, "staging")
    ws.pidfile("staging").parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    ws.pidfile("staging").write_text(json.dumps({"pid": int(done.stdout), "started_at": "x"}))
    state = supervisor.status(ws, "staging", config, clock=FakeClock())
    assert not state.running and "has exited" in state.detail
    ws.pidfile("staging").write_text("{not json")
    assert "unreadable" in supervisor.status(ws, "staging", config, clock=FakeClock()).detail
    stopped = supervisor.stop(
        ws, "staging", config, environ={}, clock=FakeClock(), reporter=Reporter({}, quiet=True)
    )
    assert not stopped.running and not ws.pidfile("staging").exists()


def test_component_cwd_must_stay_inside_the_workspace(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    config = load_env_config(ws, "staging")
    config["component"]["process"]["cwd"] = "../elsewhere"
    from dhash_gha.errors import BadInput

    with pytest.raises(BadInput, match="outside the workspace"):
        supervisor.component_cwd(ws, config)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_reused_pid_is_not_mistaken_for_the_component(example_workspace: Path) -> None:
    import os

    ws = Workspace.at(example_workspace)
    config = load_env_config(ws, "staging")
    ws.pidfile("staging").parent.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": os.getpid(),
        "started_at": "2026-01-01T00:00:00Z",
        "command": ["/usr/bin/python3", "-m", "dhash_app", "serve"],
    }
    ws.pidfile("staging").write_text(json.dumps(record))
    state = supervisor.status(ws, "staging", config, clock=FakeClock())
    assert not state.running and "belongs to another program" in state.detail
    # stop must not signal this (test) process
    supervisor.stop(
        ws, "staging", config, environ={}, clock=FakeClock(), reporter=Reporter({}, quiet=True)
    )
    assert not ws.pidfile("staging").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_stop_kills_a_component_that_ignores_the_stop_signal(example_workspace: Path) -> None:
    import io

    from dhash_gha.adapters.clock import SystemClock

    ws = Workspace.at(example_workspace)
    config = load_env_config(ws, "staging")
    ready = example_workspace / "stubborn.ready"
    stubborn = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"
    )
    config["component"]["process"].update(
        {"command": ["{python}", "-c", stubborn], "stop_grace_seconds": 0.5}
    )
    err = io.StringIO()
    reporter = Reporter({}, stream=io.StringIO(), err_stream=err)
    started = supervisor.start(
        ws, "staging", config, environ={}, clock=SystemClock(), reporter=reporter
    )
    assert started.pid is not None
    assert supervisor.status(ws, "staging", config, clock=SystemClock()).running
    import time

    deadline = time.monotonic() + 10
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    supervisor.stop(ws, "staging", config, environ={}, clock=SystemClock(), reporter=reporter)
    assert "did not stop within 0.5s: killed it" in err.getvalue()
    assert not supervisor.pid_alive(started.pid)
    assert not ws.pidfile("staging").exists()
