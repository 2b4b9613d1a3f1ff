"""The environment lock (held by another process) and the command runner."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.lock import environment_lock, read_lock_info
from dhash_gha.adapters.procs import expand, run_command, windows_kill_tree_argv
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock
from dhash_gha.errors import BadInput, CheckFailed

HOLDER = """
import sys
from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.lock import environment_lock
from dhash_gha.adapters.workspace import Workspace
with environment_lock(Workspace.at(sys.argv[1]), sys.argv[2], "deploy", clock=SystemClock()):
    print("locked", flush=True)
    sys.stdin.read()
"""


def _hold_lock(root: Path, env: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), env],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_second_command_is_refused_naming_the_holder(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    holder = _hold_lock(tmp_path, "production")
    try:
        with (
            pytest.raises(BadInput) as caught,
            environment_lock(ws, "production", "rollback", clock=SystemClock()),
        ):
            pass
        message = caught.value.message
        assert f"pid {holder.pid}" in message and "'deploy'" in message and "since 20" in message
        # another environment is not affected
        with environment_lock(ws, "staging", "deploy", clock=SystemClock()):
            pass
    finally:
        holder.kill()
        holder.wait()
    # the OS released the lock of the killed holder: the next command gets it
    with environment_lock(ws, "production", "deploy", clock=FakeClock()) as info:
        assert read_lock_info(ws, "production") == info
    assert read_lock_info(ws, "production") is None


def test_waiting_command_says_whom_it_waits_for(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    holder = _hold_lock(tmp_path, "production")
    out = io.StringIO()
    try:
        with (
            pytest.raises(BadInput, match="locked by 'deploy'"),
            environment_lock(
                ws,
                "production",
                "rollback",
                clock=SystemClock(),
                wait_seconds=0.3,
                reporter=Reporter({}, stream=out),
            ),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert f"held by 'deploy' (pid {holder.pid}" in out.getvalue()


def test_expand_placeholders_only() -> None:
    assert expand(
        ["{python}", "-c", "{'a': 1}", "--port={port}"], {"python": "py", "port": "9"}
    ) == ["py", "-c", "{'a': 1}", "--port=9"]
    assert windows_kill_tree_argv(42) == ["taskkill", "/F", "/T", "/PID", "42"]


def test_output_is_relayed_and_wrapped_on_actions(tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = Reporter({"GITHUB_ACTIONS": "true"}, stream=out)
    reporter.mask("s3cr3t-token")
    script = "print('::set-output name=x::evil'); print('token s3cr3t-token')"
    run_command(
        "build",
        [sys.executable, "-c", script],
        cwd=tmp_path,
        environ={},
        timeout=30,
        clock=SystemClock(),
        reporter=reporter,
    )
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].split("::")[2]
    assert len(token) >= 32
    end = lines.index(f"::{token}::")
    relayed = "\n".join(lines[start + 1 : end])
    assert "::set-output name=x::evil" in relayed
    printed = [line for line in lines if not line.startswith("::add-mask::")]
    assert "s3cr3t-token" not in "\n".join(printed) and "token ***" in relayed


def test_failure_names_exit_code_and_last_line(tmp_path: Path) -> None:
    with pytest.raises(CheckFailed, match="install failed with exit code 3: nope"):
        run_command(
            "install",
            [sys.executable, "-c", "import sys; print('nope'); sys.exit(3)"],
            cwd=tmp_path,
            environ={},
            timeout=30,
            clock=SystemClock(),
            reporter=Reporter({}, stream=io.StringIO()),
        )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
def test_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with pytest.raises(CheckFailed, match="timed out after 1s; its whole process tree was killed"):
        run_command(
            "build",
            [sys.executable, "-c", script],
            cwd=tmp_path,
            environ={},
            timeout=1,
            clock=SystemClock(),
            reporter=Reporter({}, stream=io.StringIO()),
        )
    assert time.monotonic() - started < 15
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    import os

    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the grandchild survived the timeout")


def test_missing_program_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckFailed, match="cannot run 'no-such-program-xyz'"):
        run_command(
            "install",
            ["no-such-program-xyz"],
            cwd=tmp_path,
            environ={},
            timeout=5,
            clock=SystemClock(),
            reporter=Reporter({}, stream=io.StringIO()),
        )


def test_wait_lock_says_whom_it_waits_for_then_proceeds(
    example_workspace: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    import threading

    holder = _hold_lock(example_workspace, "production")
    argv = ["--root", str(example_workspace), "migrate", "--env", "production", "--type", "forward"]
    try:
        code, out, err = run_cli(*argv, "--wait-lock", "0.3")
        assert code == 2 and f"locked by 'deploy' (pid {holder.pid}" in err
        assert (
            f"waiting up to 0.3s for the lock of 'production', held by 'deploy' (pid {holder.pid}"
            in out
        )
        assert holder.stdin is not None
        threading.Timer(0.5, holder.stdin.close).start()  # the holder finishes soon
        code, out, err = run_cli(*argv, "--wait-lock", "30")
        assert code == 0, out + err
        assert "now at 0002" in out
    finally:
        holder.kill()
        holder.wait()
