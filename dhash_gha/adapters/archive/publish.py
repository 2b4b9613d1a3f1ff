"""Backup-specific file publishing; the atomic-write primitives live in dhash_gha.adapters.atomic."""

from __future__ import annotations

import os
from pathlib import Path

from dhash_gha.adapters.atomic import (
    OWNER_ONLY,
    fsync_dir,
    open_exclusive,
    temp_beside,
    write_atomic,
)

__all__ = ["OWNER_ONLY", "fsync_dir", "open_exclusive", "publish", "temp_beside", "write_atomic"]


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
