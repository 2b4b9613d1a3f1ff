"""Shared scaffolding of the operations tests: a deployable workspace and tree fingerprints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace

ENV = "production"
# Written by the running component itself (not by the command under test).
COMPONENT_WRITES = ("logs/dhash_", ".dhash-state/production/component_output.log")


def tune_for_tests(root: Path, env: str = ENV, **health: Any) -> None:
    """Fast health polling so a deploy or rollback takes seconds."""
    path = root / "config" / env / "dhash.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["health"].update({"interval_seconds": 0.2, "deadline_seconds": 8, **health})
    data["component"]["process"]["stop_grace_seconds"] = 5
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def set_fault(root: Path, env: str = ENV, **faults: Any) -> None:
    path = root / "config" / env / "dhash.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["component"]["faults"].update(faults)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def fingerprint(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every file under root (path → digest), minus prefixes in ``skip``."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(skip):
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def stop_all(root: Path) -> None:
    """Teardown: stop whatever component the test left running, in every environment."""
    from dhash_gha.adapters import supervisor
    from dhash_gha.adapters.config import load_env_config

    ws = Workspace.at(root)
    for env in ws.environments():
        data = supervisor.read_pidfile(ws, env)
        if not data:
            continue
        try:
            config = load_env_config(ws, env)
            supervisor.stop(
                ws, env, config, environ={}, clock=SystemClock(), reporter=Reporter({}, quiet=True)
            )
        except Exception:
            pid = data.get("pid")
            if isinstance(pid, int):
                supervisor._force_kill(pid)
