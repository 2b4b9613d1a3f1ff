"""Safety checks of archive entry names and sizes (pure: no I/O).

Python's zipfile and tarfile quietly rewrite hostile names on extraction
(dropping ``..``, stripping drive letters, writing links as plain files,
letting a later duplicate win). A restore therefore checks every entry
itself, here, and refuses the whole archive on the first doubt. The same
rules run when a backup is created, so a backup we write is one we can
restore on Linux, macOS and Windows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PureWindowsPath

from dhash_gha.errors import BadInput

# Names Windows reserves in every directory, with or without an extension.
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]}
)
# Characters a Windows file name cannot hold (``:`` would also open an NTFS stream).
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f]')
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_COMPONENT_BYTES = 255  # ext4, APFS and NTFS all stop here
MAX_NAME_CHARS = 1024
WINDOWS_MAX_PATH = 260  # without the \\?\ prefix or the LongPathsEnabled policy
# Below this size a high compression ratio is normal (a short file of repeated bytes).
RATIO_FLOOR_BYTES = 1024 * 1024

KINDS = ("file", "dir", "symlink", "device", "other")


@dataclass(frozen=True, slots=True)
class Entry:
    """One archive member as the archive declares it."""

    name: str
    kind: str  # one of KINDS
    size: int = 0
    compressed_size: int | None = None  # None when the format does not say (tar)


@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = 10 * 1024**3
    max_ratio: float = 200.0


def name_problem(name: str) -> str | None:
    """Why ``name`` (a member name, ``/``-separated) is unsafe or not portable; None when fine."""
    if not name:
        return "empty name"
    if "\x00" in name:
        return "NUL character in name"
    if "\\" in name:
        return "backslash in name (not a '/' separated relative path)"
    if name.startswith("/"):
        return "absolute path"
    if _DRIVE.match(name):
        return "drive letter"
    if len(name) > MAX_NAME_CHARS:
        return f"path longer than {MAX_NAME_CHARS} characters"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    for part in parts:
        problem = component_problem(part)
        if problem:
            return problem
    return None


def component_problem(part: str) -> str | None:
    if part in ("", "."):
        return "empty or '.' path component"
    if part == "..":
        return "'..' path component (escapes the target)"
    if len(part.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES:
        return f"path component longer than {MAX_COMPONENT_BYTES} bytes"
    if _WINDOWS_FORBIDDEN.search(part):
        return 'character not allowed in a Windows file name (<>:"|?* or control)'
    if part.endswith((" ", ".")):
        return "name ends with a space or a dot (Windows drops it)"
    stem = part.split(".", 1)[0].rstrip(" ").upper()
    if stem in _WINDOWS_RESERVED:
        return f"Windows reserved device name {stem}"
    return None


def fold(name: str) -> str:
    """The key under which two names are the same file on Windows and macOS."""
    return unicodedata.normalize("NFC", name).casefold()


def in_include_set(name: str, include: Iterable[str]) -> bool:
    bare = name.rstrip("/")
    return any(bare == item or bare.startswith(item + "/") for item in include)


def windows_path_too_long(root: str, name: str) -> bool:
    """True when ``root``/``name`` exceeds MAX_PATH on Windows (tested with PureWindowsPath)."""
    return len(str(PureWindowsPath(root, *name.rstrip("/").split("/")))) >= WINDOWS_MAX_PATH


def entry_problems(
    entries: Sequence[Entry],
    include: Sequence[str],
    limits: Limits,
    *,
    allowed_extra: Iterable[str] = (),
) -> list[str]:
    """Every reason to refuse these entries, as ``'<name>: <reason>'`` lines (empty: safe)."""
    extra = set(allowed_extra)
    problems: list[str] = []
    seen: dict[str, str] = {}  # exact name without trailing slash -> kind
    folded: dict[str, str] = {}  # folded path (and each parent) -> first spelling
    total = 0
    total_compressed = 0
    for entry in entries:
        label = repr(entry.name)
        if entry.kind not in ("file", "dir"):
            problems.append(f"{label}: {entry.kind} entries are not allowed (only files and dirs)")
            continue
        problem = name_problem(entry.name)
        if problem:
            problems.append(f"{label}: {problem}")
            continue
        bare = entry.name.rstrip("/")
        if bare not in extra and not in_include_set(bare, include):
            problems.append(f"{label}: outside the backed-up set ({', '.join(include)})")
            continue
        if bare in seen:
            problems.append(f"{label}: duplicate entry")
            continue
        seen[bare] = entry.kind
        parts = bare.split("/")
        for depth in range(1, len(parts) + 1):
            spelling = "/".join(parts[:depth])
            first = folded.setdefault(fold(spelling), spelling)
            if first != spelling:
                problems.append(
                    f"{label}: {spelling!r} and {first!r} are the same name on "
                    "case-insensitive file systems (Windows, macOS)"
                )
                break
        if entry.kind == "file":
            total += max(entry.size, 0)
            if entry.compressed_size is not None:
                total_compressed += entry.compressed_size
                if entry.size >= RATIO_FLOOR_BYTES and (
                    entry.size > limits.max_ratio * max(entry.compressed_size, 1)
                ):
                    problems.append(
                        f"{label}: compression ratio over {limits.max_ratio:g} "
                        f"({entry.size} bytes from {entry.compressed_size}): a decompression bomb"
                    )
    for entry in entries:
        parent = entry.name.rstrip("/").rpartition("/")[0]
        while parent:
            if seen.get(parent) == "file":
                problems.append(f"{entry.name!r}: its parent {parent!r} is a file")
                break
            parent = parent.rpartition("/")[0]
    if total > limits.max_total_bytes:
        problems.append(
            f"uncompressed size {total} bytes is over the limit of {limits.max_total_bytes} "
            "(backup.max_uncompressed_bytes)"
        )
    if (
        total >= RATIO_FLOOR_BYTES
        and total_compressed
        and total > limits.max_ratio * total_compressed
    ):
        problems.append(
            f"overall compression ratio over {limits.max_ratio:g} "
            f"({total} bytes from {total_compressed}): a decompression bomb"
        )
    return problems


def check_entries(
    entries: Sequence[Entry],
    include: Sequence[str],
    limits: Limits,
    *,
    source: str,
    allowed_extra: Iterable[str] = (),
) -> None:
    """Raise BadInput listing the problems when any entry is unsafe; nothing has been written."""
    problems = entry_problems(entries, include, limits, allowed_extra=allowed_extra)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise BadInput(
            f"refusing {source}: unsafe archive entries: {shown}{more}",
            tip="restore from another backup (`dhash-gha backup list --env ENV`); "
            "this archive was not written by dhash-gha or has been tampered with",
        )
