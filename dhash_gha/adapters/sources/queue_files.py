"""The low-confidence queue files, ``data/{env}/*.queue``: one item per line.

Lines are counted the way ``wc -l`` counts them — newline characters — so
the monitor and the runbook's ``find data/production -name "*.queue" -exec
wc -l {} \\;`` always agree. A torn last line (a writer caught mid-append,
no newline yet) is therefore not counted; it is counted at the next poll,
once complete. Files are read in fixed-size binary chunks, never loaded whole.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from dhash_gha.adapters.sources.interface import SourceReading
from dhash_gha.core.gates.sample import QUEUE_ITEMS

CHUNK_BYTES = 1 << 20


def count_lines(path: Path, chunk_bytes: int = CHUNK_BYTES) -> int:
    """Newline characters in ``path`` (``wc -l``); reads at most ``chunk_bytes`` at a time."""
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            count += chunk.count(b"\n")
    return count


class QueueFilesSource:
    """Sum of items over the queue files ``list_files()`` returns (``Workspace.queue_files``).

    No queue file at all means an empty queue (0 items): the component creates
    the file when it first queues something. An unreadable file is no data.
    """

    name = "queue_files"

    def __init__(self, list_files: Callable[[], list[Path]]) -> None:
        self.list_files = list_files

    def collect(self) -> SourceReading:
        total = 0
        try:
            paths = self.list_files()
        except OSError as exc:
            return SourceReading.failed(f"cannot list queue files: {exc}")
        for path in paths:
            try:
                if not stat.S_ISREG(path.stat().st_mode):
                    # A directory, or a named pipe whose open() would block the poll forever.
                    return SourceReading.failed(
                        f"cannot read queue file {path.name}: not a regular file"
                    )
                total += count_lines(path)
            except FileNotFoundError:
                continue  # rotated away between listing and reading: its items are gone
            except OSError as exc:
                return SourceReading.failed(f"cannot read queue file {path.name}: {exc}")
        return SourceReading({QUEUE_ITEMS: float(total)})
