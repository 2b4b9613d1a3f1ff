"""Resolving a requested path inside the media root, refusing every escape.

Refused: no media root configured, absolute paths or drive letters, ``..``
leading outside, and any symbolic link on the way (even one pointing inside,
since its target can change after the check).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath


class MediaPathError(Exception):
    def __init__(self, message: str, *, status: int, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def _refused(requested: str, why: str) -> MediaPathError:
    return MediaPathError(
        f"path {requested!r} refused: {why}; send a path relative to the media root",
        status=403,
        code="path_refused",
    )


def relative_parts(requested: str) -> tuple[str, ...]:
    """The path's components, refusing absolute paths, drive letters and '..' (pure logic)."""
    if not requested or "\x00" in requested:
        raise _refused(requested, "empty or contains a NUL byte")
    windows = PureWindowsPath(requested)
    if windows.drive or windows.root or PurePosixPath(requested).is_absolute():
        raise _refused(requested, "absolute paths are not allowed")
    parts = tuple(p for p in windows.parts if p not in ("", "."))
    if ".." in parts:
        raise _refused(requested, "'..' would leave the media root")
    if not parts:
        raise _refused(requested, "it names the media root itself")
    return parts


def resolve_media_path(media_root: Path | None, requested: str) -> Path:
    if media_root is None:
        raise MediaPathError(
            "no media root is configured: set component.media_root in config/{env}/dhash.json",
            status=403,
            code="no_media_root",
        )
    parts = relative_parts(requested)
    root = media_root.resolve()
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise _refused(requested, f"{part!r} is a symbolic link")
    if not current.exists():
        raise MediaPathError(
            f"path {requested!r} not found under the media root", status=404, code="not_found"
        )
    if not current.resolve().is_relative_to(root):
        raise _refused(requested, "it resolves outside the media root")
    if not current.is_file():
        raise MediaPathError(f"path {requested!r} is not a file", status=400, code="not_a_file")
    return current
