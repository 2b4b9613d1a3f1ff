"""Finding and reading monitor logs for gate replay (the file adapter around ``replay``)."""

from __future__ import annotations

import glob
from collections.abc import Callable
from pathlib import Path

from dhash_gha.adapters.workspace import Workspace, check_env_name
from dhash_gha.core.gates.replay import ParsedLogs


def default_pattern(env: str) -> str:
    return f"logs/monitor_{check_env_name(env)}_*.log"


def find_monitor_logs(ws: Workspace, env: str, pattern: str | None = None) -> list[Path]:
    """Files matching ``pattern`` (relative to the workspace root, or absolute), sorted."""
    pattern = pattern or default_pattern(env)
    if Path(pattern).is_absolute():
        matches = glob.glob(pattern, recursive=True)
    else:
        matches = [str(ws.root / m) for m in glob.glob(pattern, root_dir=ws.root, recursive=True)]
    return sorted(Path(m) for m in matches if Path(m).is_file())


def read_monitor_logs(
    paths: list[Path], label: Callable[[Path], str], warn: Callable[[str], None]
) -> ParsedLogs:
    """Parse every file; an unreadable file is a warning, a damaged line a counted skip."""
    parsed = ParsedLogs()
    for path in paths:
        try:
            # errors="replace": a torn or binary line must not stop the replay of the rest
            with path.open(encoding="utf-8", errors="replace") as handle:
                parsed.add_lines(handle, label(path))
        except OSError as exc:
            warn(f"cannot read {label(path)}: {exc}")
    return parsed
