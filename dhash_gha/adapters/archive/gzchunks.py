"""A gzip writer that compresses on every core: one gzip member per 1 MiB chunk.

A file of concatenated gzip members is a valid gzip file (RFC 1952 §2.2):
``gzip -d``, ``tar -xzf`` and Python's gzip/tarfile all read it. Chunks that
do not compress (media) are stored at level 0, which costs little more than
a copy, so archiving a media-heavy tree is not bound by deflate speed.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

CHUNK = 1024 * 1024
PROBE = 16 * 1024
INCOMPRESSIBLE = 0.9  # a probe that shrinks less than 10 % is stored


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, mtime 0
_STORED_BLOCK = 65535


def stored_member(data: bytes) -> bytes:
    """A gzip member holding ``data`` in stored deflate blocks: a copy, not a compression."""
    view = memoryview(data)
    parts: list[bytes | memoryview] = [_GZIP_HEADER]
    if not data:
        parts.append(b"\x01\x00\x00\xff\xff")
    for at in range(0, len(data), _STORED_BLOCK):
        piece = view[at : at + _STORED_BLOCK]
        final = at + _STORED_BLOCK >= len(data)
        parts.append(struct.pack("<BHH", 1 if final else 0, len(piece), len(piece) ^ 0xFFFF))
        parts.append(piece)
    parts.append(struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF))
    return b"".join(parts)


def _member(data: bytes, level: int) -> bytes:
    probe = data[:PROBE]
    if probe and len(zlib.compress(probe, 1)) > INCOMPRESSIBLE * len(probe):
        return stored_member(data)
    return gzip.compress(data, compresslevel=level, mtime=0)


class ParallelGzipWriter:
    """A write-only file object; ``close()`` flushes but leaves ``raw`` open."""

    def __init__(self, raw: BinaryIO, *, workers: int, level: int = 1) -> None:
        self.raw = raw
        self.level = level
        self.digest = hashlib.sha256()  # of the compressed bytes, for the sidecar
        self._buffer = bytearray()
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers))
        self._pending: deque[Future[bytes]] = deque()
        self._window = max(2, workers * 2)
        self._written = 0
        self.closed = False

    def tell(self) -> int:
        """Uncompressed bytes written so far (tarfile asks)."""
        return self._written

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._written += len(data)
        while len(self._buffer) >= CHUNK:
            self._submit(bytes(self._buffer[:CHUNK]))
            del self._buffer[:CHUNK]
        return len(data)

    def _submit(self, chunk: bytes) -> None:
        self._pending.append(self._pool.submit(_member, chunk, self.level))
        while len(self._pending) >= self._window:
            self._drain_one()

    def _drain_one(self) -> None:
        out = self._pending.popleft().result()
        self.digest.update(out)
        self.raw.write(out)

    def flush(self) -> None:
        """Nothing to do mid-stream: chunks are written as they complete."""

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._buffer or not self._pending:
                self._submit(bytes(self._buffer))
                self._buffer.clear()
            while self._pending:
                self._drain_one()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self.closed = True
