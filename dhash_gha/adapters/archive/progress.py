"""A progress line on the terminal for large trees (stderr, only when it is a terminal)."""

from __future__ import annotations

from typing import IO, Any

from dhash_gha.core.clock import Clock

MIN_BYTES = 64 * 1024 * 1024  # smaller trees finish before a progress line helps
INTERVAL = 0.5


class Progress:
    def __init__(self, label: str, total: int, stream: IO[str], clock: Clock) -> None:
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty()) and total >= MIN_BYTES
        self.label = label
        self.total = max(total, 1)
        self.stream = stream
        self.clock = clock
        self.done = 0
        self._last = -INTERVAL

    def advance(self, amount: int) -> None:
        self.done += amount
        if not self.enabled:
            return
        now = self.clock.monotonic()
        if now - self._last >= INTERVAL:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        percent = min(100.0, 100.0 * self.done / self.total)
        mib = 1024 * 1024
        text = f"\r{self.label}: {percent:5.1f}%  {self.done // mib}/{self.total // mib} MiB"
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False

    def close(self) -> None:
        if self.enabled:
            self._draw()
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass


def rate_fields(files: int, nbytes: int, seconds: float) -> dict[str, Any]:
    """The one-line summary's fields: files, bytes, seconds, MB/s."""
    mbps = nbytes / 1e6 / seconds if seconds > 0 else 0.0
    return {
        "files": files,
        "bytes": nbytes,
        "seconds": round(seconds, 3),
        "mb_per_s": round(mbps, 1),
    }
