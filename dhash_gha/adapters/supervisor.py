"""Starting, stopping and inspecting the component process.

Two managers, chosen by ``component.process.manager`` in ``config/{env}/dhash.json``:

- ``supervisor`` (built in): starts the command detached in its own process
  group / session, writes ``deployments/{env}/dhash.pid`` (JSON: pid, start
  time, command), stops it by creating its stop-request file (path in the
  component's ``DHASH_STOP_FILE``) and sending SIGTERM to its group on POSIX,
  waits ``stop_grace_seconds``, then kills the whole tree. Windows has no signal
  that reaches a detached process from another console, so there the file is
  the only graceful request.
- ``commands``: the host has its own (systemd, docker, …); the configured
  start/stop/status commands are run instead (status: exit 0 = running).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dhash_gha.adapters.config import mask_configured_secrets
from dhash_gha.adapters.procs import expand, kill_group, program_argv, run_command
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.errors import BadInput, CheckFailed

# Popen objects of the components this process started: lets us reap them (no zombies
# that look alive) and keeps Python from warning about a child it never waited for.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
_STILL_ACTIVE = 259  # Windows GetExitCodeProcess: the process has not exited
STOP_FILE_VAR = "DHASH_STOP_FILE"

# POSIX: the child writes its own pidfile, then execs the component (same pid). So even if
# this command is killed right after forking, the component never runs without a pidfile.
_LAUNCHER = """
import json, os, sys
pidfile, started_at, env = sys.argv[1:4]
argv = sys.argv[4:]
record = {"pid": os.getpid(), "started_at": started_at, "command": argv, "environment": env}
with open(pidfile + ".launcher.tmp", "w", encoding="utf-8") as handle:
    handle.write(json.dumps(record) + "\\n")
os.replace(pidfile + ".launcher.tmp", pidfile)
os.execvp(argv[0], argv)
"""


def launch_argv(argv: list[str], pidfile: Path, started_at: str, env: str) -> list[str]:
    """The argv that starts the component (POSIX: through the pidfile-writing launcher)."""
    if sys.platform == "win32":
        return argv
    return [sys.executable, "-c", _LAUNCHER, str(pidfile), started_at, env, *argv]


@dataclass(frozen=True)
class ProcessStatus:
    running: bool
    pid: int | None
    started_at: str | None
    uptime_seconds: float | None
    detail: str


def placeholders(ws: Workspace, env: str, config: Mapping[str, Any]) -> dict[str, str]:
    return {
        "python": sys.executable,
        "root": str(ws.root),
        "env": env,
        "port": str(config["component"]["port"]),
    }


def _process(config: Mapping[str, Any]) -> Mapping[str, Any]:
    process: Mapping[str, Any] = config["component"]["process"]
    return process


def component_cwd(ws: Workspace, config: Mapping[str, Any]) -> Path:
    cwd = ws.root / str(_process(config).get("cwd", "."))
    if not cwd.resolve().is_relative_to(ws.root):
        raise BadInput(
            f"component.process.cwd {str(_process(config).get('cwd'))!r} is outside the workspace",
            tip='give a directory relative to the workspace root, e.g. "src"',
        )
    return cwd


def start_environ(environ: Mapping[str, str], git_commit: str | None) -> dict[str, str]:
    child = dict(environ)
    child["PYTHONUNBUFFERED"] = "1"
    if git_commit:
        child["DHASH_GIT_COMMIT"] = git_commit
    return child


def detached_kwargs() -> dict[str, Any]:
    """Popen arguments that detach the component from this command's terminal and signals."""
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        return {"creationflags": flags}
    return {"start_new_session": True}


# --- process liveness ------------------------------------------------------------------
def pid_alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        try:
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        finally:
            kernel32.CloseHandle(handle)
        return code.value == _STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def runs_command(pid: int, command: Any) -> bool:
    """False only when we can see that ``pid`` runs something else (the pid was reused).

    Linux shows a process's argv in /proc; elsewhere (or unreadable) we trust the pidfile.
    """
    if not isinstance(command, list) or not command:
        return True
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    argv = [part.decode("utf-8", errors="replace") for part in raw.split(b"\0")[:-1]]
    if argv and argv[: len(command)] != [str(part) for part in command]:
        # the launcher has not exec'd yet: it still runs with the command at its end
        return argv[-len(command) :] == [str(part) for part in command]
    return True


def _is_zombie(pid: int) -> bool:
    """An exited process its parent has not reaped yet (Linux: state Z in /proc) is not alive."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def read_pidfile(ws: Workspace, env: str) -> dict[str, Any] | None:
    try:
        data = json.loads(ws.pidfile(env).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"pid": None, "detail": "unreadable pidfile"}
    return data if isinstance(data, dict) else None


def port_in_use(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the built-in supervisor -----------------------------------------------------------
def _supervised_status(ws: Workspace, env: str, clock: Clock) -> ProcessStatus:
    data = read_pidfile(ws, env)
    if data is None:
        return ProcessStatus(False, None, None, None, "not running (no pidfile)")
    pid = data.get("pid")
    if not isinstance(pid, int):
        return ProcessStatus(False, None, None, None, "not running (unreadable pidfile)")
    started = data.get("started_at")
    if not pid_alive(pid):
        return ProcessStatus(False, pid, started, None, f"not running (pid {pid} has exited)")
    if not runs_command(pid, data.get("command")):
        return ProcessStatus(
            False, pid, started, None, f"not running (pid {pid} now belongs to another program)"
        )
    uptime = None
    if isinstance(started, str):
        uptime = max(0.0, (clock.now() - _parse_iso(started)).total_seconds())
    return ProcessStatus(True, pid, started, uptime, f"running (pid {pid})")


def _supervised_start(
    ws: Workspace,
    env: str,
    config: Mapping[str, Any],
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    git_commit: str | None,
) -> ProcessStatus:
    current = _supervised_status(ws, env, clock)
    if current.running:
        reporter.info(f"component already {current.detail}", event="service_already_running")
        return current
    host, port = str(config["component"]["host"]), int(config["component"]["port"])
    if port and port_in_use(host, port):
        raise CheckFailed(
            f"cannot start the component: {host}:{port} is already in use by another process",
            tip="stop whatever listens there (an orphaned component?) or change component.port",
        )
    argv = expand(_process(config)["command"], placeholders(ws, env, config))
    output = ws.component_output(env)
    output.parent.mkdir(parents=True, exist_ok=True)
    ws.pidfile(env).parent.mkdir(parents=True, exist_ok=True)
    started_at = iso_utc(clock.now())
    child_environ = start_environ(environ, git_commit)
    child_environ[STOP_FILE_VAR] = str(ws.stop_request(env))
    ws.stop_request(env).unlink(missing_ok=True)  # a stale request would stop it at once
    with output.open("ab") as sink:
        try:
            child = subprocess.Popen(
                launch_argv(program_argv(argv), ws.pidfile(env), started_at, env),
                cwd=component_cwd(ws, config),
                env=child_environ,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                close_fds=True,
                **detached_kwargs(),
            )
        except OSError as exc:
            raise CheckFailed(
                f"cannot start the component ({argv[0]!r}): {exc}",
                tip="check component.process.command and cwd in the environment's config",
            ) from None
    _CHILDREN[child.pid] = child
    record = {"pid": child.pid, "started_at": started_at, "command": argv, "environment": env}
    temporary = ws.pidfile(env).with_name(ws.pidfile(env).name + ".tmp")
    temporary.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(temporary, ws.pidfile(env))
    reporter.info(f"started the component: pid {child.pid}", event="service_start", pid=child.pid)
    return ProcessStatus(True, child.pid, started_at, 0.0, f"running (pid {child.pid})")


def _request_stop(ws: Workspace, env: str) -> bool:
    """Create the stop-request file the component watches; False when it cannot be written."""
    try:
        ws.stop_request(env).parent.mkdir(parents=True, exist_ok=True)
        ws.stop_request(env).write_bytes(b"")
    except OSError:
        return False
    return True


def _signal_stop(pid: int) -> bool:
    """Send SIGTERM to the component's group; False when it could not be delivered.

    Windows: CTRL_BREAK_EVENT reaches only processes on the sender's console, and the
    component runs detached from every console, so no signal is sent there.
    """
    if sys.platform == "win32":
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True  # already gone
    except OSError:
        return False
    return True


def _force_kill(pid: int) -> None:
    kill_group(pid)


def _wait_exit(pid: int, seconds: float, clock: Clock) -> bool:
    deadline = clock.monotonic() + seconds
    while pid_alive(pid):
        if clock.monotonic() >= deadline:
            return False
        clock.sleep(0.05)
    return True


def _supervised_stop(
    ws: Workspace, env: str, config: Mapping[str, Any], *, clock: Clock, reporter: Reporter
) -> ProcessStatus:
    current = _supervised_status(ws, env, clock)
    if current.running and current.pid is not None:
        grace = float(_process(config).get("stop_grace_seconds", 10))
        requested = _request_stop(ws, env)
        asked = _signal_stop(current.pid) or requested
        if asked and _wait_exit(current.pid, grace, clock):
            reporter.info(f"stopped the component (pid {current.pid})", event="service_stop")
        else:
            why = f"did not stop within {grace:g}s" if asked else "could not be asked to stop"
            reporter.warning(f"the component (pid {current.pid}) {why}: killed it")
            _force_kill(current.pid)
            if not _wait_exit(current.pid, 10, clock):
                raise CheckFailed(
                    f"cannot stop the component (pid {current.pid})",
                    tip="stop it by hand, then run the command again",
                )
        _CHILDREN.pop(current.pid, None)
    else:
        reporter.info(f"component {current.detail}: nothing to stop", event="service_stop")
    ws.pidfile(env).unlink(missing_ok=True)
    ws.stop_request(env).unlink(missing_ok=True)
    return ProcessStatus(False, current.pid, None, None, "stopped")


# --- configured commands ----------------------------------------------------------------
def _command(config: Mapping[str, Any], which: str, ws: Workspace, env: str) -> list[str]:
    return expand(_process(config)[which], placeholders(ws, env, config))


def _timeout(config: Mapping[str, Any]) -> float:
    return float(config["component"].get("command_timeout_seconds", 600))


def _commands_status(ws: Workspace, env: str, config: Mapping[str, Any]) -> ProcessStatus:
    argv = _command(config, "status", ws, env)
    try:
        done = subprocess.run(
            program_argv(argv),
            cwd=component_cwd(ws, config),
            capture_output=True,
            timeout=min(_timeout(config), 60),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return ProcessStatus(False, None, None, None, f"status command failed: {exc}")
    running = done.returncode == 0
    state = "running" if running else f"not running (status exit {done.returncode})"
    return ProcessStatus(running, None, None, None, state)


# --- public API -----------------------------------------------------------------------
def is_commands(config: Mapping[str, Any]) -> bool:
    return _process(config).get("manager") == "commands"


def status(ws: Workspace, env: str, config: Mapping[str, Any], *, clock: Clock) -> ProcessStatus:
    if is_commands(config):
        return _commands_status(ws, env, config)
    return _supervised_status(ws, env, clock)


def _mask_secrets(
    config: Mapping[str, Any], environ: Mapping[str, str], reporter: Reporter
) -> None:
    """Host commands inherit the environment: their relayed output must not show its secrets."""

    mask_configured_secrets(config, environ, reporter)


def start(
    ws: Workspace,
    env: str,
    config: Mapping[str, Any],
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    git_commit: str | None = None,
) -> ProcessStatus:
    if not is_commands(config):
        return _supervised_start(
            ws, env, config, environ=environ, clock=clock, reporter=reporter, git_commit=git_commit
        )
    _mask_secrets(config, environ, reporter)
    run_command(
        "start",
        _command(config, "start", ws, env),
        cwd=component_cwd(ws, config),
        environ=start_environ(environ, git_commit),
        timeout=_timeout(config),
        clock=clock,
        reporter=reporter,
    )
    return _commands_status(ws, env, config)


def stop(
    ws: Workspace,
    env: str,
    config: Mapping[str, Any],
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
) -> ProcessStatus:
    if not is_commands(config):
        return _supervised_stop(ws, env, config, clock=clock, reporter=reporter)
    _mask_secrets(config, environ, reporter)
    run_command(
        "stop",
        _command(config, "stop", ws, env),
        cwd=component_cwd(ws, config),
        environ=dict(environ),
        timeout=_timeout(config),
        clock=clock,
        reporter=reporter,
    )
    return _commands_status(ws, env, config)


def output_size(ws: Workspace, env: str) -> int:
    """How much the component has printed so far (to read only what a new start prints)."""
    try:
        return ws.component_output(env).stat().st_size
    except OSError:
        return 0


def output_tail(ws: Workspace, env: str, lines: int = 15, *, since: int = 0) -> list[str]:
    """The last lines the component printed after byte ``since`` (for "died on start")."""
    try:
        with ws.component_output(env).open("rb") as handle:
            handle.seek(since)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]
