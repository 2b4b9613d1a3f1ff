"""Reading zip members straight from a memory map, with every integrity check.

zipfile parses the central directory well but reads members through one
shared, locked file handle with a lot of per-member overhead. Verify and
restore read thousands of members on several threads, so they take the
central directory from zipfile and read member bytes through one file
handle per thread, in bounded chunks (memory stays flat), checking the local header, the declared sizes, the CRC and the SHA-256.
Output never exceeds the declared size (a lying header cannot inflate a
bomb past what the entry checks accepted).
"""

from __future__ import annotations

import hashlib
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dhash_gha.core.archive.entries import Entry
from dhash_gha.errors import CheckFailed

_LOCAL = struct.Struct("<IHHHHHIIIHH")
OUT_CHUNK = 1024 * 1024
_S_IFMT = 0o170000
_S_IFLNK = 0o120000
_S_IFDIR = 0o040000
_S_IFREG = 0o100000


@dataclass(frozen=True, slots=True)
class MemberCheck:
    name: str
    size: int
    sha256: str


def entry_of(info: zipfile.ZipInfo) -> Entry:
    """The kind and sizes a zip member declares (unix mode bits when the creator set them)."""
    fmt = (info.external_attr >> 16) & _S_IFMT
    if fmt == _S_IFLNK:
        kind = "symlink"
    elif info.filename.endswith("/"):
        kind = "dir" if fmt in (0, _S_IFDIR) else "other"
    elif fmt in (0, _S_IFREG):
        kind = "file"
    elif fmt == _S_IFDIR:
        kind = "other"  # a directory without the trailing slash: ambiguous, refuse
    else:
        kind = "device"
    return Entry(info.filename, kind, info.file_size, info.compress_size)


class ArchiveReader:
    """A zip opened for checked, parallel member reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CheckFailed(f"{path.name}: not a readable zip archive: {exc}") from None
        self.infos = self._zip.infolist()
        self.size = path.stat().st_size
        self._local = threading.local()
        self._handles: list[BinaryIO] = []
        self._lock = threading.Lock()

    def _read(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset``, through this thread's own handle."""
        handle: BinaryIO | None = getattr(self._local, "handle", None)
        if handle is None:
            handle = self.path.open("rb")
            self._local.handle = handle
            with self._lock:
                self._handles.append(handle)
        handle.seek(offset)
        return handle.read(length)

    def close(self) -> None:
        with self._lock:
            for handle in self._handles:
                handle.close()
            self._handles.clear()
        self._zip.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _data_span(self, info: zipfile.ZipInfo) -> tuple[int, int]:
        start = info.header_offset
        header = self._read(start, _LOCAL.size)
        if len(header) < _LOCAL.size:
            raise CheckFailed(f"{self.path.name}: {info.filename}: local header past end of file")
        fields = _LOCAL.unpack(header)
        if fields[0] != 0x04034B50:
            raise CheckFailed(f"{self.path.name}: {info.filename}: bad local header signature")
        name_len, extra_len = fields[9], fields[10]
        name = self._read(start + _LOCAL.size, name_len)
        if name != info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437"):
            raise CheckFailed(
                f"{self.path.name}: {info.filename}: local header names {name!r} instead "
                "(a crafted archive)"
            )
        begin = start + _LOCAL.size + name_len + extra_len
        end = begin + info.compress_size
        if end > self.size:
            raise CheckFailed(f"{self.path.name}: {info.filename}: data runs past end of file")
        return begin, end

    def read_member(
        self,
        info: zipfile.ZipInfo,
        sink: Callable[[bytes], None] | None = None,
    ) -> MemberCheck:
        """Decompress one member, checking size and CRC; feed the bytes to ``sink``."""
        label = f"{self.path.name}: {info.filename}"
        if info.flag_bits & 0x1:
            raise CheckFailed(f"{label}: encrypted members are not supported")
        begin, end = self._data_span(info)
        digest = hashlib.sha256()
        crc = 0
        produced = 0
        if info.compress_type == zipfile.ZIP_STORED:
            for at in range(begin, end, OUT_CHUNK):
                piece = self._read(at, min(OUT_CHUNK, end - at))
                digest.update(piece)
                crc = zlib.crc32(piece, crc)
                if sink:
                    sink(piece)
            produced = end - begin
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            produced, crc = self._inflate(info, begin, end, digest.update, sink, label)
        else:
            raise CheckFailed(f"{label}: unsupported compression method {info.compress_type}")
        if produced != info.file_size:
            raise CheckFailed(
                f"{label}: size {produced} differs from the declared {info.file_size}"
            )
        if crc != info.CRC:
            raise CheckFailed(f"{label}: CRC mismatch (the archive is corrupt)")
        return MemberCheck(info.filename, produced, digest.hexdigest())

    def _inflate(
        self,
        info: zipfile.ZipInfo,
        begin: int,
        end: int,
        update: Callable[[bytes], None],
        sink: Callable[[bytes], None] | None,
        label: str,
    ) -> tuple[int, int]:
        inflater = zlib.decompressobj(-15)
        produced = 0
        crc = 0
        at = begin
        pending = b""
        try:
            while True:
                if not pending:
                    if at >= end:
                        break
                    chunk = self._read(at, min(OUT_CHUNK, end - at))
                    at += len(chunk)
                    out = inflater.decompress(chunk, OUT_CHUNK)
                else:
                    out = inflater.decompress(pending, OUT_CHUNK)
                pending = inflater.unconsumed_tail
                if out:
                    produced += len(out)
                    if produced > info.file_size:
                        raise CheckFailed(f"{label}: inflates past its declared size")
                    update(out)
                    crc = zlib.crc32(out, crc)
                    if sink:
                        sink(out)
                if inflater.eof:
                    break
        except zlib.error as exc:
            raise CheckFailed(f"{label}: corrupt deflate data: {exc}") from None
        if not inflater.eof:
            raise CheckFailed(f"{label}: truncated deflate data")
        return produced, crc

    def read_bytes(self, info: zipfile.ZipInfo, limit: int) -> bytes:
        """A small member's content (the manifest), refusing anything over ``limit``."""
        if info.file_size > limit:
            raise CheckFailed(f"{self.path.name}: {info.filename} is implausibly large")
        parts: list[bytes] = []
        self.read_member(info, parts.append)
        return b"".join(parts)
