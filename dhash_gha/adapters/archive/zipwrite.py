"""A minimal ZIP container writer that accepts already-compressed member data.

zipfile compresses members itself, on one thread. Backups deflate members
on every core and hash while writing, so this writer only lays out the
container (PKWARE APPNOTE 6.3): local headers, raw member data, the
central directory and, when sizes or counts need it, the ZIP64 records.
A large member streams in with a data descriptor after its data, so the
archive is written strictly front to back and can be hashed as it is written
(no seek back to patch a header).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

STORED = 0
DEFLATED = 8
_UTF8_FLAG = 0x800
_DESCRIPTOR_FLAG = 0x08
_MADE_BY_UNIX = 3 << 8 | 45
_LIMIT32 = 0xFFFFFFFF
_LIMIT16 = 0xFFFF
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_DIR_ATTR_DOS = 0x10
_S_IFDIR = 0o040000
_S_IFREG = 0o100000


def dos_datetime(mtime: float) -> tuple[int, int]:
    """(time, date) in MS-DOS format, local time like zip(1), clamped to 1980..2107."""
    moment = time.localtime(max(mtime, 315532800))
    year = min(max(moment.tm_year, 1980), 2107)
    dos_time = moment.tm_hour << 11 | moment.tm_min << 5 | moment.tm_sec // 2
    dos_date = (year - 1980) << 9 | moment.tm_mon << 5 | moment.tm_mday
    return dos_time, dos_date


@dataclass(slots=True)
class _Member:
    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    external_attr: int
    offset: int
    crc: int = 0
    compressed: int = 0
    size: int = 0
    local_zip64: bool = False
    data_start: int = 0


class ZipWriter:
    """Writes members one after another; ``close()`` writes the central directory."""

    def __init__(self, fp: BinaryIO, on_write: Callable[[bytes | memoryview], None] | None = None):
        self.fp = fp
        self.on_write = on_write
        self.position = 0
        self._members: list[_Member] = []
        self._open: _Member | None = None

    def _member(self, name: str, method: int, mode: int, mtime: float, *, is_dir: bool) -> _Member:
        if self._open is not None:
            raise RuntimeError("previous member not finished")
        raw = name.encode("utf-8")
        flags = 0 if raw.isascii() else _UTF8_FLAG
        dos_time, dos_date = dos_datetime(mtime)
        kind = _S_IFDIR if is_dir else _S_IFREG
        attr = ((kind | (mode & 0o7777)) << 16) | (_DIR_ATTR_DOS if is_dir else 0)
        return _Member(raw, flags, method, dos_time, dos_date, attr, self.position)

    def _write_local(self, member: _Member, *, zip64: bool) -> None:
        member.local_zip64 = zip64
        extra = struct.pack("<HHQQ", 1, 16, member.size, member.compressed) if zip64 else b""
        header = _LOCAL.pack(
            0x04034B50,
            45 if zip64 else 20,
            member.flags,
            member.method,
            member.dos_time,
            member.dos_date,
            member.crc,
            _LIMIT32 if zip64 else member.compressed,
            _LIMIT32 if zip64 else member.size,
            len(member.name),
            len(extra),
        )
        self._write(header + member.name + extra)

    def _write(self, data: bytes | memoryview) -> None:
        self.fp.write(data)
        if self.on_write:
            self.on_write(data)
        self.position += len(data)

    def add_directory(self, name: str, mode: int, mtime: float) -> None:
        member = self._member(name.rstrip("/") + "/", STORED, mode, mtime, is_dir=True)
        self._write_local(member, zip64=False)
        self._members.append(member)

    def add_complete(
        self, name: str, mode: int, mtime: float, method: int, data: bytes, crc: int, size: int
    ) -> None:
        """A member whose compressed data, CRC and size are all known: no patching needed."""
        member = self._member(name, method, mode, mtime, is_dir=False)
        member.crc, member.compressed, member.size = crc, len(data), size
        self._write_local(member, zip64=size >= _LIMIT32 or len(data) >= _LIMIT32)
        self._write(data)
        self._members.append(member)

    def begin(self, name: str, mode: int, mtime: float, method: int, size_hint: int) -> None:
        """Start a streamed member; ``size_hint`` decides whether it is a ZIP64 member."""
        member = self._member(name, method, mode, mtime, is_dir=False)
        member.flags |= _DESCRIPTOR_FLAG
        self._write_local(member, zip64=size_hint * 1.05 + 1024 >= _LIMIT32)
        member.data_start = self.position
        self._open = member

    def write(self, data: bytes | memoryview) -> None:
        if self._open is None:
            raise RuntimeError("no member open")
        self._write(data)

    def finish(self, crc: int, size: int) -> None:
        """Close the streamed member with its data descriptor."""
        member = self._open
        if member is None:
            raise RuntimeError("no member open")
        member.crc, member.size = crc, size
        member.compressed = self.position - member.data_start
        if member.local_zip64:
            self._write(struct.pack("<IIQQ", 0x08074B50, crc, member.compressed, size))
        elif member.compressed >= _LIMIT32 or size >= _LIMIT32:
            raise OverflowError(f"{member.name!r}: member grew past 4 GiB while being written")
        else:
            self._write(struct.pack("<IIII", 0x08074B50, crc, member.compressed, size))
        self._members.append(member)
        self._open = None

    def close(self) -> None:
        """Write the central directory and the end records."""
        if self._open is not None:
            raise RuntimeError("a member is still open")
        start = self.position
        for member in self._members:
            self._write_central(member)
        size = self.position - start
        count = len(self._members)
        if count >= _LIMIT16 or start >= _LIMIT32 or size >= _LIMIT32:
            end64 = self.position
            self._write(
                _END64.pack(0x06064B50, 44, _MADE_BY_UNIX, 45, 0, 0, count, count, size, start)
            )
            self._write(_LOCATOR64.pack(0x07064B50, 0, end64, 1))
        self._write(
            _END.pack(
                0x06054B50,
                0,
                0,
                min(count, _LIMIT16),
                min(count, _LIMIT16),
                min(size, _LIMIT32),
                min(start, _LIMIT32),
                0,
            )
        )

    def _write_central(self, member: _Member) -> None:
        extra_values: list[int] = []
        size, compressed, offset = member.size, member.compressed, member.offset
        if size >= _LIMIT32:
            extra_values.append(size)
            size = _LIMIT32
        if compressed >= _LIMIT32:
            extra_values.append(compressed)
            compressed = _LIMIT32
        if offset >= _LIMIT32:
            extra_values.append(offset)
            offset = _LIMIT32
        extra = b""
        if extra_values:
            extra = struct.pack(f"<HH{len(extra_values)}Q", 1, 8 * len(extra_values), *extra_values)
        header = _CENTRAL.pack(
            0x02014B50,
            _MADE_BY_UNIX,
            45 if extra_values or member.local_zip64 else 20,
            member.flags,
            member.method,
            member.dos_time,
            member.dos_date,
            member.crc,
            compressed,
            size,
            len(member.name),
            len(extra),
            0,
            0,
            0,
            member.external_attr,
            offset,
        )
        self._write(header + member.name + extra)
