"""Writing files so that a crash never leaves a half-written one under its final name."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO

OWNER_ONLY = 0o600


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
    """A hidden temporary name next to ``target`` that no backup glob matches."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def open_exclusive(path: Path, mode: int = OWNER_ONLY) -> BinaryIO:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, mode)
    return os.fdopen(fd, "wb")


def publish(temp: Path, target: Path) -> None:
    """Move ``temp`` to ``target`` without ever replacing an existing file.

    FileExistsError when ``target`` exists: the caller picks another name.
    """
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network or FAT file systems)
        if target.exists():
            raise FileExistsError(str(target)) from None
        os.rename(temp, target)
    else:
        temp.unlink()
    fsync_dir(target.parent)


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
