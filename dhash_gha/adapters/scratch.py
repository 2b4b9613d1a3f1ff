"""Scratch copies of a workspace: the rehearsal's, the pre-merge run's, the tests'.

A copy never carries runtime state (backups, logs, data, pids …), and a copy
of the example workspace gets free ports so it never collides with a real
component or with another copy.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import BadInput

# Runtime state of a workspace that is never part of a fresh copy.
RUNTIME_PARTS = (
    "backups",
    "rollbacks",
    "logs",
    "incidents",
    "notifications",
    "data",
    ".dhash-state",
    ".dhash-restore-*",
    "premerge_artifacts",
    "__pycache__",
    "*.pid",
    "current_release.json",
)


def example_source() -> Path:
    """The example workspace shipped inside the wheel, else the checkout's examples/."""
    package = Path(__file__).resolve().parents[1]  # the dhash_gha package
    for candidate in (
        package / "_example" / "dhash-app",
        package.parent / "examples" / "dhash-app",
    ):
        if (candidate / "quality-gates-config.json").is_file():
            return candidate
    raise BadInput(
        "the example workspace is not installed with this copy of dhash-gha",
        tip="reinstall the package (pip install --force-reinstall dhash-gha) or run from a checkout",
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def copy_workspace(source: Path, target: Path) -> Workspace:
    """Copy a workspace without its runtime state."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*RUNTIME_PARTS))
    return Workspace.at(target)


def copy_example(target: Path, port_for: Callable[[], int] = free_port) -> Workspace:
    """Copy the example workspace to ``target`` with a free port per environment."""
    ws = copy_workspace(example_source(), target)
    for env in ws.environments():
        path = ws.env_config(env)
        data = json.loads(path.read_text(encoding="utf-8"))
        port = port_for()
        data["component"]["port"] = port
        data["health"]["url"] = f"http://127.0.0.1:{port}/healthz"
        data["metrics"]["url"] = f"http://127.0.0.1:{port}/metrics"
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return ws
