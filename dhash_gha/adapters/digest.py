"""SHA-256 of a file, read in large chunks (backups, sidecars, provenance subjects)."""

from __future__ import annotations

import hashlib
from pathlib import Path

READ_CHUNK = 4 * 1024 * 1024


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
