"""Video frames through an ``ffmpeg`` subprocess.

Each requested time gives one PNG frame (``-ss T -frames:v 1``). A missing
ffmpeg or an undecodable file is an ExtractionError with a clear message,
never a crash; a time past the end of the video fails for that frame only.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dhash_app.hashing import ExtractionError

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts"}
)
MAX_FRAMES = 16
FRAME_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Frame:
    time: float
    png: bytes | None
    error: str | None = None


def looks_like_video(data: bytes) -> bool:
    """Container signatures: ISO-BMFF (mp4/mov), Matroska/WebM, AVI, MPEG-PS/TS."""
    head = data[:16]
    return (
        head[4:8] == b"ftyp"
        or head.startswith(b"\x1a\x45\xdf\xa3")
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
        or head.startswith(b"\x00\x00\x01\xba")
        or (len(data) > 188 and data[0] == 0x47 and data[188] == 0x47)
    )


def parse_times(text: str) -> tuple[float, ...]:
    """``"0,1.5,3"`` → (0.0, 1.5, 3.0); refuses negatives, non-numbers and too many frames."""
    try:
        times = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"frame times must be comma-separated seconds, got {text!r}") from None
    if not times or len(times) > MAX_FRAMES or any(t < 0 or t != t for t in times):
        raise ValueError(f"give 1..{MAX_FRAMES} frame times >= 0 seconds, got {text!r}")
    return times


def find_ffmpeg(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ExtractionError(
            f"ffmpeg not found ({name!r} is not an executable on PATH): install ffmpeg "
            "(Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or set DHASH_FFMPEG",
            code="ffmpeg_missing",
            status=503,
        )
    return found


def extract_frames(ffmpeg: str, video: Path, times: tuple[float, ...]) -> list[Frame]:
    """One frame per time; raises ExtractionError when ffmpeg is missing or no frame decodes."""
    executable = find_ffmpeg(ffmpeg)
    frames = [_frame(executable, video, t) for t in times]
    if all(frame.png is None for frame in frames):
        reasons = "; ".join(f"t={f.time:g}s: {f.error}" for f in frames)
        raise ExtractionError(
            f"video could not be decoded by ffmpeg ({reasons})", code="undecodable"
        )
    return frames


def _frame(executable: str, video: Path, at: float) -> Frame:
    command = [
        executable, "-nostdin", "-v", "error", "-ss", f"{at:.3f}", "-i", str(video),
        "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "pipe:1",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=FRAME_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        return Frame(at, None, f"ffmpeg took longer than {FRAME_TIMEOUT_SECONDS:g}s")
    except OSError as exc:
        return Frame(at, None, f"ffmpeg could not run: {exc}")
    if done.returncode != 0 or not done.stdout:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = lines[-1] if lines else "no frame at this time (past the end of the video?)"
        return Frame(at, None, why[:300])
    return Frame(at, done.stdout)
