"""The environment lock: one deploy, rollback or migration per environment at a time.

The lock is a ``filelock`` lock file under ``.dhash-state/{env}/``; the
operating system releases it when the holder dies (even on SIGKILL), so a
crashed command never leaves the environment locked. Beside it, a small JSON
file says who holds it (command, pid, host, since) so a refused or waiting
command can name the holder.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.errors import BadInput


@dataclass(frozen=True)
class LockInfo:
    environment: str
    command: str
    pid: int
    host: str
    since: str

    def describe(self) -> str:
        return f"'{self.command}' (pid {self.pid} on {self.host}) since {self.since}"


def read_lock_info(ws: Workspace, env: str) -> LockInfo | None:
    """Who last took the lock (None when unknown or unreadable)."""
    try:
        data: Any = json.loads(ws.lock_info(env).read_text(encoding="utf-8"))
        return LockInfo(
            environment=str(data["environment"]),
            command=str(data["command"]),
            pid=int(data["pid"]),
            host=str(data["host"]),
            since=str(data["since"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _held_error(ws: Workspace, env: str) -> BadInput:
    holder = read_lock_info(ws, env)
    who = holder.describe() if holder else "another command (holder unknown)"
    return BadInput(
        f"environment '{env}' is locked by {who}",
        tip="wait for that command to finish (the lock is released automatically when it exits), "
        f"or check it is still running; lock file: {ws.lock_file(env)}",
    )


@contextmanager
def environment_lock(
    ws: Workspace,
    env: str,
    command: str,
    *,
    clock: Clock,
    wait_seconds: float = 0.0,
    reporter: Reporter | None = None,
) -> Iterator[LockInfo]:
    """Hold ``env``'s lock for the block; raise BadInput naming the holder when it is taken.

    With ``wait_seconds`` > 0 the command first waits that long, saying who it waits for.
    """
    import filelock

    path = ws.lock_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if wait_seconds <= 0:
            raise _held_error(ws, env) from None
        if reporter is not None:
            holder = read_lock_info(ws, env)
            who = holder.describe() if holder else "another command"
            reporter.info(
                f"waiting up to {wait_seconds:g}s for the lock of '{env}', held by {who}",
                event="lock_wait",
            )
        try:
            lock.acquire(timeout=wait_seconds)
        except filelock.Timeout:
            raise _held_error(ws, env) from None
    info = LockInfo(
        environment=env,
        command=command,
        pid=os.getpid(),
        host=socket.gethostname(),
        since=iso_utc(clock.now()),
    )
    try:
        ws.lock_info(env).write_text(json.dumps(asdict(info)) + "\n", encoding="utf-8")
        yield info
    finally:
        with contextlib.suppress(OSError):
            ws.lock_info(env).unlink()
        lock.release()
