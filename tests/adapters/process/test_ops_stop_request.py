"""A graceful stop that does not depend on console signals.

On Windows the supervised component runs detached (no console), and a later
``dhash-gha`` command never shares a console with it, so CTRL_BREAK_EVENT
cannot reach it. The supervisor therefore also asks through a stop-request
file (``DHASH_STOP_FILE`` in the component's environment), which the example
component watches. Here the signal is suppressed to stand for that platform.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace

ENV = "staging"


@pytest.fixture
def running(example_workspace: Path) -> Iterator[tuple[Workspace, dict[str, object], int]]:
    ws = Workspace.at(example_workspace)
    config = load_env_config(ws, ENV)
    config["component"]["process"]["stop_grace_seconds"] = 8
    reporter = Reporter({}, quiet=True)
    started = supervisor.start(ws, ENV, config, environ={}, clock=SystemClock(), reporter=reporter)
    assert started.pid is not None
    try:
        deadline = time.monotonic() + 30
        port = int(config["component"]["port"])
        while not supervisor.port_in_use("127.0.0.1", port):  # listening (health needs a schema)
            assert time.monotonic() < deadline, supervisor.output_tail(ws, ENV)
            assert supervisor.pid_alive(started.pid), supervisor.output_tail(ws, ENV)
            time.sleep(0.1)
        yield ws, config, started.pid
    finally:
        supervisor.kill_group(started.pid)


def test_component_stops_gracefully_on_the_stop_request_file(
    running: tuple[Workspace, dict[str, object], int],
) -> None:
    ws, _config, pid = running
    ws.stop_request(ENV).write_bytes(b"")
    deadline = time.monotonic() + 10
    while supervisor.pid_alive(pid):
        assert time.monotonic() < deadline, "the component ignored its stop-request file"
        time.sleep(0.05)
    service_logs = "".join(p.read_text(encoding="utf-8") for p in ws.logs_dir.glob("dhash_*.log"))
    assert "event=stopping" in service_logs
    assert "event=stopped" in service_logs


def test_stop_without_a_deliverable_signal_is_still_graceful(
    running: tuple[Workspace, dict[str, object], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, config, pid = running
    monkeypatch.setattr(supervisor, "_signal_stop", lambda _pid: True)  # never arrives
    err = io.StringIO()
    reporter = Reporter({}, stream=io.StringIO(), err_stream=err)
    began = time.monotonic()
    supervisor.stop(ws, ENV, config, environ={}, clock=SystemClock(), reporter=reporter)
    assert "killed it" not in err.getvalue()
    assert time.monotonic() - began < 6
    assert not supervisor.pid_alive(pid)
    assert not ws.stop_request(ENV).exists()  # a later start is not stopped at once


def test_a_stale_stop_request_does_not_stop_a_new_start(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    config = load_env_config(ws, ENV)
    ws.stop_request(ENV).parent.mkdir(parents=True, exist_ok=True)
    ws.stop_request(ENV).write_bytes(b"")
    started = supervisor.start(
        ws, ENV, config, environ={}, clock=SystemClock(), reporter=Reporter({}, quiet=True)
    )
    assert started.pid is not None
    try:
        assert not ws.stop_request(ENV).exists()
    finally:
        supervisor.kill_group(started.pid)
