"""Output for humans and machines: the terminal, GitHub Actions, and the event log.

On GitHub Actions (``GITHUB_ACTIONS=true``) the terminal output uses workflow
commands (``::group::``, ``::error::``, ``::warning::``, ``::add-mask::``), a
job summary is appended to ``GITHUB_STEP_SUMMARY`` and outputs go to
``GITHUB_OUTPUT``. Elsewhere the same calls print plain text.

Every event is also written to the command's log file under ``logs/`` as one
greppable ``key=value`` line (logfmt), UTC, so ``grep`` works on it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.core.clock import Clock, iso_utc

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def logfmt_value(value: Any) -> str:
    """One value as logfmt: bare when safe, double-quoted with escapes otherwise."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif value is None:
        text = ""
    else:
        text = str(value)
    if text and not any(c in text for c in ' "=\\\n\r\t'):
        return text
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def logfmt_line(fields: Mapping[str, Any]) -> str:
    return " ".join(f"{key}={logfmt_value(value)}" for key, value in fields.items())


def _escape_command_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_command_property(text: str) -> str:
    return _escape_command_data(text).replace(":", "%3A").replace(",", "%2C")


class Reporter:
    """The single place that writes to the terminal, the job summary and the event log."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        stream: IO[str] | None = None,
        err_stream: IO[str] | None = None,
        clock: Clock | None = None,
        quiet: bool = False,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.stream = stream if stream is not None else sys.stdout
        self.err_stream = err_stream if err_stream is not None else sys.stderr
        self.clock = clock or SystemClock()
        self.quiet = quiet
        self._log_path: Path | None = None
        self._secrets: list[str] = []

    # --- environment -------------------------------------------------------------------
    @property
    def on_github_actions(self) -> bool:
        return self.environ.get("GITHUB_ACTIONS") == "true"

    @property
    def is_terminal(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    # --- secrets -------------------------------------------------------------------------
    def mask(self, secret: str) -> None:
        """Never print ``secret``: masked on Actions, redacted in our own output and logs."""
        if not secret or secret in self._secrets:
            return
        self._secrets.append(secret)
        if self.on_github_actions:
            for line in secret.splitlines() or [secret]:
                if line.strip():
                    # stderr: the runner reads workflow commands from both streams, and
                    # stdout stays clean for --json output.
                    self._write(self.err_stream, f"::add-mask::{line}")

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # --- event log -----------------------------------------------------------------------
    def attach_log(self, path: Path) -> Path:
        """Start writing events to ``path`` (created with its parent)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        self._log_path = path
        return path

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def event(self, event: str, level: str = "INFO", **fields: Any) -> None:
        """Write one ``key=value`` line to the event log (not to the terminal)."""
        if self._log_path is None:
            return
        if level not in _LEVELS:
            raise ValueError(f"unknown level {level}")
        line = logfmt_line(
            {"ts": iso_utc(self.clock.now()), "level": level, "event": event, **fields}
        )
        try:
            with self._log_path.open("a", encoding="utf-8") as handle:
                handle.write(self.redact(line) + "\n")
        except OSError as exc:
            self._write(self.err_stream, f"warning: cannot write log {self._log_path}: {exc}")

    # --- terminal ------------------------------------------------------------------------
    def _write(self, stream: IO[str], text: str) -> None:
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    def info(self, message: str, *, event: str | None = None, **fields: Any) -> None:
        if not self.quiet:
            self._write(self.stream, self.redact(message))
        self.event(event or "info", message=message, **fields)

    def warning(self, message: str, *, title: str | None = None, **fields: Any) -> None:
        text = self.redact(message)
        if self.on_github_actions:
            props = f" title={_escape_command_property(title)}" if title else ""
            self._write(self.stream, f"::warning{props}::{_escape_command_data(text)}")
        else:
            self._write(self.err_stream, f"warning: {text}")
        self.event("warning", "WARNING", message=message, **fields)

    def error(self, message: str, *, title: str | None = None, **fields: Any) -> None:
        text = self.redact(message)
        if self.on_github_actions:
            props = f" title={_escape_command_property(title)}" if title else ""
            self._write(self.stream, f"::error{props}::{_escape_command_data(text)}")
        else:
            self._write(self.err_stream, f"error: {text}")
        self.event("error", "ERROR", message=message, **fields)

    def tip(self, message: str) -> None:
        """An actionable hint after an error: same stream as errors, so they read in order."""
        self._write(self.err_stream, f"tip: {self.redact(message)}")
        self.event("tip", message=message)

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        if self.on_github_actions:
            self._write(self.stream, f"::group::{self.redact(title)}")
        elif not self.quiet:
            self._write(self.stream, f"== {self.redact(title)}")
        try:
            yield
        finally:
            if self.on_github_actions:
                self._write(self.stream, "::endgroup::")

    # --- job summary and outputs ---------------------------------------------------------
    def summary(self, markdown: str) -> None:
        """Append markdown to the job summary on Actions; no-op elsewhere."""
        target = self.environ.get("GITHUB_STEP_SUMMARY")
        if not target:
            return
        try:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(self.redact(markdown).rstrip("\n") + "\n\n")
        except OSError as exc:
            self._write(self.err_stream, f"warning: cannot write job summary: {exc}")

    def set_output(self, name: str, value: str) -> None:
        """Set a step output via ``GITHUB_OUTPUT`` with a random heredoc delimiter (multi-line safe)."""
        target = self.environ.get("GITHUB_OUTPUT")
        if not target:
            return
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"{name}<<{delimiter}\n{self.redact(value)}\n{delimiter}\n")
