"""Running the install, build and migration commands of a release.

Each command runs without a shell, with a timeout that kills its whole process
tree (a build that forks a compiler must not outlive its timeout), and with
its output relayed line by line. On GitHub Actions the relayed output is
wrapped in ``::stop-commands::<random token>`` … ``::<token>::`` so a line
printed by the command cannot issue workflow commands (set outputs, add
masks, …), and known secrets are redacted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dhash_gha.adapters.reporter import Reporter
from dhash_gha.core.clock import Clock
from dhash_gha.errors import BadInput, CheckFailed

_TAIL_LINES = 20


@dataclass(frozen=True)
class CommandResult:
    label: str
    argv: list[str]
    returncode: int
    seconds: float
    tail: list[str]


def expand(argv: Sequence[str], placeholders: Mapping[str, str]) -> list[str]:
    """Substitute ``{python}``, ``{root}``, ``{env}``, ``{port}`` in each argument.

    Only these names are replaced (plain ``str.replace``, no format mini-language),
    so braces elsewhere in an argument are left alone.
    """
    out = []
    for arg in argv:
        for name, value in placeholders.items():
            arg = arg.replace("{" + name + "}", value)
        out.append(arg)
    return out


def program_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` with a bare program name resolved the way a Windows shell would.

    CreateProcess looks only for ``name.exe`` on PATH, so ``npm`` (``npm.cmd``) or a
    ``.bat`` wrapper would not be found; ``shutil.which`` honours PATHEXT. Elsewhere,
    and for a path or a name which() does not know, argv stays as configured.
    """
    out = list(argv)
    if sys.platform == "win32" and out and "/" not in out[0] and "\\" not in out[0]:
        found = shutil.which(out[0])
        if found:
            out[0] = found
    return out


def new_group_kwargs() -> dict[str, object]:
    """Popen arguments that put the child in its own process group (killable as a tree)."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def windows_kill_tree_argv(pid: int) -> list[str]:
    """The command that kills a process and all its children on Windows."""
    return ["taskkill", "/F", "/T", "/PID", str(pid)]


def kill_group(pid: int) -> None:
    """Kill the process ``pid`` leads and everything it started (process group / tree)."""
    if sys.platform == "win32":
        subprocess.run(windows_kill_tree_argv(pid), capture_output=True, check=False)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` and everything it started, then reap it."""
    kill_group(process.pid)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _relay(
    process: subprocess.Popen[bytes], reporter: Reporter, label: str, tail: list[str]
) -> None:
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        tail.append(line)
        del tail[:-_TAIL_LINES]
        reporter.info(f"  {label}| {line}", event="command_output", command=label)


def run_command(
    label: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    environ: Mapping[str, str],
    timeout: float,
    clock: Clock,
    reporter: Reporter,
) -> CommandResult:
    """Run ``argv``; raise CheckFailed on a non-zero exit or a timeout (tree killed)."""
    if not argv:
        raise BadInput(f"{label}: empty command", tip="give the command as a non-empty argv list")
    started = clock.monotonic()
    reporter.info(f"{label}: {' '.join(argv)}", event="command_start", command=label)
    token = secrets.token_hex(16)
    if reporter.on_github_actions:
        reporter.info(f"::stop-commands::{token}")
    try:
        process = subprocess.Popen(
            program_argv(argv),
            cwd=cwd,
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            **new_group_kwargs(),  # type: ignore[call-overload]
        )
    except OSError as exc:
        if reporter.on_github_actions:
            reporter.info(f"::{token}::")
        raise CheckFailed(
            f"{label}: cannot run {argv[0]!r}: {exc}",
            tip="check the command in config/{env}/dhash.json and that the program is installed",
        ) from None
    tail: list[str] = []
    relay = threading.Thread(target=_relay, args=(process, reporter, label, tail), daemon=True)
    relay.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_tree(process)
    except BaseException:
        kill_tree(process)
        raise
    finally:
        relay.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        if reporter.on_github_actions:
            reporter.info(f"::{token}::")
    seconds = clock.monotonic() - started
    result = CommandResult(label, list(argv), process.returncode, seconds, list(tail))
    if timed_out:
        reporter.event("command_timeout", "ERROR", command=label, timeout=timeout)
        raise CheckFailed(
            f"{label} timed out after {timeout:g}s; its whole process tree was killed",
            tip="raise component.command_timeout_seconds or find what the command waits for",
        )
    reporter.event("command_end", command=label, returncode=process.returncode, seconds=seconds)
    if process.returncode != 0:
        last = reporter.redact(tail[-1]) if tail else "(no output)"
        raise CheckFailed(
            f"{label} failed with exit code {process.returncode}: {last}",
            tip="read the command's output above (also in the log) and fix the release",
        )
    return result
