"""The ``.zip.sha256`` sidecar: written for ``sha256sum -c``, read like ``sha256sum -c --strict``.

The sidecar names the backup as ``backups/<name>.zip`` so the runbook's
``sha256sum -c "${LATEST_BACKUP}.sha256"`` works from the workspace root.
When reading, the name is only compared with the backup's own basename:
the file that is hashed is always the sidecar's sibling, never a path
taken from the sidecar.
"""

from __future__ import annotations

import re

from dhash_gha.errors import BadInput

# GNU format: "<hex>  <name>" (text) or "<hex> *<name>" (binary); BSD format from `shasum --tag`.
_GNU = re.compile(r"^(?P<hex>[0-9A-Fa-f]{64}) (?P<mode>[ *])(?P<name>.+)$")
_BSD = re.compile(r"^SHA256 \((?P<name>.+)\) = (?P<hex>[0-9A-Fa-f]{64})$")
BACKUPS_PREFIX = "backups/"


def format_sidecar(digest: str, backup_name: str, folder: str = BACKUPS_PREFIX) -> str:
    """The sidecar text: one line, relative to the workspace root, as the runbook checks it."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"not a lower-case sha256 hex digest: {digest!r}")
    if "/" in backup_name or "\\" in backup_name or "\n" in backup_name:
        raise ValueError(f"backup name must be a bare file name: {backup_name!r}")
    return f"{digest}  {folder}{backup_name}\n"


def parse_sidecar(text: str, backup_name: str, *, label: str) -> str:
    """The lower-case digest the sidecar records for ``backup_name``; BadInput otherwise."""
    tip = (
        f"recreate it only if you trust the backup: "
        f"(cd WORKSPACE && sha256sum backups/{backup_name} > backups/{backup_name}.sha256), "
        "or use another backup"
    )
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines:
        raise BadInput(f"{label} is empty: no checksum to verify against", tip=tip)
    if len(lines) > 1:
        raise BadInput(
            f"{label} has {len(lines)} lines; a backup sidecar holds exactly one checksum line",
            tip=tip,
        )
    line = lines[0]
    match = _GNU.match(line) or _BSD.match(line)
    if not match:
        raise BadInput(
            f"{label} is malformed: expected '<64 hex digits>  backups/{backup_name}'", tip=tip
        )
    name = match.group("name")
    parts = name.split("/")
    if ".." in parts or name.startswith("\\") or parts[-1] != backup_name:
        raise BadInput(
            f"{label} names {name!r}, not the backup {backup_name!r} beside it",
            tip="a sidecar must describe its own backup: " + tip,
        )
    return match.group("hex").lower()
