"""Writing files so that a crash never leaves a half-written one under its final name.

Every record the tool keeps (release record, migration state, monitor state,
notification audit, provenance, backups) is written here: a temporary name
beside the target, fsync, rename, then fsync of the directory where the
platform allows it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

OWNER_ONLY = 0o600
WORLD_READABLE = 0o644


def fsync_dir(folder: Path) -> None:
    """Make a rename durable; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_beside(target: Path) -> Path:
    """A hidden temporary name next to ``target`` that no backup or record glob matches."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def open_exclusive(path: Path, mode: int = OWNER_ONLY) -> BinaryIO:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, mode)
    return os.fdopen(fd, "wb")


def write_atomic(target: Path, data: bytes, mode: int = OWNER_ONLY) -> None:
    """Replace ``target`` with ``data`` atomically (temp file, fsync, rename)."""
    temp = temp_beside(target)
    try:
        with open_exclusive(temp, mode) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        fsync_dir(target.parent)
    finally:
        temp.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str, mode: int = WORLD_READABLE) -> None:
    """``write_atomic`` for UTF-8 text; creates the parent directory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text.encode("utf-8"), mode)


def write_json_atomic(
    target: Path, document: Mapping[str, Any], mode: int = WORLD_READABLE, **dump: Any
) -> None:
    """JSON (indented unless ``dump`` says otherwise), newline-terminated, written atomically."""
    options: dict[str, Any] = {"indent": 2, "ensure_ascii": False, **dump}
    write_text_atomic(target, json.dumps(document, **options) + "\n", mode)
