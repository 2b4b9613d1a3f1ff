"""Packing a file tree into a ZipWriter, deflating on every core and hashing while writing.

Work is cut into tasks (a batch of small files, or one 1 MiB piece of a large
file) that worker threads read and compress; zlib and hashlib release the GIL,
so the threads really run in parallel. The main thread writes results in
order, so the archive is deterministic. At most a few tasks are in flight,
which keeps memory flat however large the tree is. A large file is deflated
piece by piece, each piece ending on a sync flush, so the pieces concatenate
into one valid deflate stream (as pigz does).
"""

from __future__ import annotations

import hashlib
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dhash_gha.adapters.archive.zipwrite import DEFLATED, STORED, ZipWriter
from dhash_gha.core.archive.manifest import FileRecord

PIECE = 1024 * 1024
BATCH_BYTES = 1024 * 1024
BATCH_FILES = 128
LEVEL = 6
# Already compressed: deflating them again costs time and saves nothing.
STORED_SUFFIXES = frozenset(
    [
        ".jpg",
        ".jpeg",
        ".png",
        ".gif",
        ".webp",
        ".avif",
        ".heic",
        ".heif",
        ".mp4",
        ".m4v",
        ".mov",
        ".mkv",
        ".webm",
        ".avi",
        ".mp3",
        ".m4a",
        ".aac",
        ".ogg",
        ".opus",
        ".flac",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".zst",
        ".7z",
        ".rar",
        ".jar",
        ".whl",
        ".woff",
        ".woff2",
        ".pdf",
    ]
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    rel: str
    path: Path
    size: int
    mode: int
    mtime: float


@dataclass(frozen=True, slots=True)
class _Piece:
    source: SourceFile
    offset: int
    length: int
    last: bool


@dataclass(frozen=True, slots=True)
class _Whole:
    data: bytes  # what goes into the archive
    method: int
    crc: int
    size: int
    sha256: str


def method_for(source: SourceFile) -> int:
    if source.size == 0 or source.path.suffix.lower() in STORED_SUFFIXES:
        return STORED
    return DEFLATED


def _pack_whole(source: SourceFile) -> _Whole:
    with source.path.open("rb") as handle:
        raw = handle.read(source.size)  # the file as it was scanned, even if it grows meanwhile
    method = method_for(source) if raw else STORED
    data = raw
    if method == DEFLATED:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        data = compressor.compress(raw) + compressor.flush()
        if len(data) >= len(raw):
            method, data = STORED, raw
    return _Whole(data, method, zlib.crc32(raw), len(raw), hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True, slots=True)
class _Batch:
    files: list[SourceFile]

    def run(self) -> list[_Whole]:
        return [_pack_whole(source) for source in self.files]


def _pack_piece(piece: _Piece) -> tuple[bytes, bytes]:
    """(raw bytes, archive bytes) of one piece of a large file."""
    with piece.source.path.open("rb") as handle:
        handle.seek(piece.offset)
        raw = handle.read(piece.length)
    if method_for(piece.source) == STORED:
        return raw, raw
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    out = compressor.compress(raw)
    out += compressor.flush(zlib.Z_FINISH if piece.last else zlib.Z_SYNC_FLUSH)
    return raw, out


def _tasks(files: Sequence[SourceFile]) -> Iterator[_Batch | _Piece]:
    batch: list[SourceFile] = []
    batch_bytes = 0
    for source in files:
        if source.size <= PIECE:
            batch.append(source)
            batch_bytes += source.size
            if batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_FILES:
                yield _Batch(batch)
                batch, batch_bytes = [], 0
            continue
        if batch:
            yield _Batch(batch)
            batch, batch_bytes = [], 0
        for offset in range(0, source.size, PIECE):
            length = min(PIECE, source.size - offset)
            yield _Piece(source, offset, length, offset + length >= source.size)
    if batch:
        yield _Batch(batch)


class _StreamState:
    """Running hashes of the large file being streamed."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.crc = 0
        self.size = 0

    def update(self, raw: bytes) -> None:
        self.sha.update(raw)
        self.crc = zlib.crc32(raw, self.crc)
        self.size += len(raw)


def pack_files(
    writer: ZipWriter,
    files: Sequence[SourceFile],
    *,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> list[FileRecord]:
    """Write ``files`` (in order) into ``writer``; return their manifest records."""
    records: list[FileRecord] = []
    window = max(2, workers * 3)  # tasks in flight: bounds memory to a few MiB per worker
    tasks = _tasks(files)
    stream = _StreamState()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque[tuple[_Batch | _Piece, Future[Any]]] = deque()

        def refill() -> None:
            for task in tasks:
                future = (
                    pool.submit(task.run)
                    if isinstance(task, _Batch)
                    else pool.submit(_pack_piece, task)
                )
                pending.append((task, future))
                if len(pending) >= window:
                    return

        refill()
        while pending:
            task, future = pending.popleft()
            result = future.result()
            refill()
            if isinstance(task, _Batch):
                for source, whole in zip(task.files, result, strict=True):
                    writer.add_complete(
                        source.rel,
                        source.mode,
                        source.mtime,
                        whole.method,
                        whole.data,
                        whole.crc,
                        whole.size,
                    )
                    records.append(FileRecord(source.rel, whole.size, source.mode, whole.sha256))
                    if progress:
                        progress(whole.size)
                continue
            raw, out = result
            if task.offset == 0:
                writer.begin(
                    task.source.rel,
                    task.source.mode,
                    task.source.mtime,
                    method_for(task.source),
                    task.source.size,
                )
                stream = _StreamState()
            stream.update(raw)
            writer.write(out)
            if progress:
                progress(len(raw))
            if task.last:
                writer.finish(stream.crc, stream.size)
                records.append(
                    FileRecord(
                        task.source.rel, stream.size, task.source.mode, stream.sha.hexdigest()
                    )
                )
    return records
