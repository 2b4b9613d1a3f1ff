"""The low-confidence review queue: ``data/{env}/low_confidence.queue``.

One JSON object per line. Each item is written with a single ``write`` of a
complete line under a lock and flushed at once, and the file is closed under
the same lock at shutdown, so the file never holds a torn line.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any


def count_lines(path: Path) -> int:
    """Complete lines in the file (what ``wc -l`` prints); 0 when it does not exist."""
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))
    except FileNotFoundError:
        return 0


class ReviewQueue:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None
        self._closed = False

    def append(self, item: Mapping[str, Any]) -> None:
        self.extend([item])

    def extend(self, items: list[Mapping[str, Any]]) -> None:
        lines = "".join(json.dumps(dict(item), sort_keys=True) + "\n" for item in items)
        with self._lock:
            if self._closed:
                raise RuntimeError("the review queue is closed (the service is shutting down)")
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8", newline="\n")
            self._handle.write(lines)
            self._handle.flush()

    def depth(self) -> int:
        return count_lines(self.path)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._handle is not None:
                self._handle.flush()
                self._handle.close()
                self._handle = None
