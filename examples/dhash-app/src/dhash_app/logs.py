"""The service log: ``logs/dhash_{env}_{YYYYmmdd}.log`` (UTC date, a new file each day).

One line per event::

    2026-11-27T05:30:00.123Z INFO request_id=3f2a… event=hash hash_time=12.3ms result=match

so ``grep -E "(ERROR|CRITICAL)"`` and ``grep hash_time`` work on it.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

_BARE = re.compile(r"^[A-Za-z0-9_./:@+-]*$")


def logfmt(fields: dict[str, object]) -> str:
    parts = []
    for key, value in fields.items():
        text = f"{value:.1f}ms" if key == "hash_time" and isinstance(value, float) else str(value)
        if text == "" or not _BARE.match(text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


class DailyFileHandler(logging.Handler):
    """Writes to logs/dhash_{env}_{YYYYmmdd}.log, switching file when the UTC date changes."""

    def __init__(self, logs_dir: Path, env: str) -> None:
        super().__init__()
        self.logs_dir = logs_dir
        self.env = env
        self._day = ""
        self._handle: IO[str] | None = None
        self._file_lock = threading.RLock()  # a stop signal may log while the main thread logs

    def path_for(self, moment: datetime) -> Path:
        return self.logs_dir / f"dhash_{self.env}_{moment.strftime('%Y%m%d')}.log"

    def emit(self, record: logging.LogRecord) -> None:
        moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        line = f"{stamp} {record.levelname} {record.getMessage()}\n"
        try:
            with self._file_lock:
                day = moment.strftime("%Y%m%d")
                if self._handle is None or day != self._day:
                    if self._handle is not None:
                        self._handle.close()
                    self.logs_dir.mkdir(parents=True, exist_ok=True)
                    self._handle = self.path_for(moment).open("a", encoding="utf-8")
                    self._day = day
                self._handle.write(line)
                self._handle.flush()
        except OSError:
            self.handleError(record)

    def close(self) -> None:
        with self._file_lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
        super().close()


def service_logger(logs_dir: Path, env: str) -> logging.Logger:
    logger = logging.getLogger(f"dhash_app.service.{env}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.addHandler(DailyFileHandler(logs_dir, env))
    return logger


def log_event(logger: logging.Logger, level: int, **fields: object) -> None:
    logger.log(level, logfmt(fields))
