"""The hashing service, independent of HTTP: extract → hash → match → store/queue.

Every item that reaches extraction counts one attempt; every item that could
not be turned into a hash counts one failure. Hash time covers extraction and
hashing (with any injected latency), not the library lookup.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from dhash_app import __version__
from dhash_app.hashing import ExtractionError, hash_bytes, to_hex
from dhash_app.logs import log_event
from dhash_app.matching import classify
from dhash_app.metrics import ServiceMetrics
from dhash_app.review_queue import ReviewQueue
from dhash_app.settings import Settings
from dhash_app.store import HashStore, SchemaNotMigrated
from dhash_app.video import extract_frames

MediaKind = Literal["image", "video"]


@dataclass(frozen=True)
class MediaItem:
    kind: MediaKind
    source: str
    data: bytes | None = None  # uploaded bytes ...
    path: Path | None = None  # ... or a file under the media root
    store: bool = True  # False: look up only (golden checks), never store or queue
    times: tuple[float, ...] = (0.0,)


@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    level: int = logging.INFO
    log: dict[str, object] = field(default_factory=dict)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HashService:
    def __init__(
        self,
        settings: Settings,
        *,
        logger: logging.Logger,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.logger = logger
        self.store = HashStore(settings.database)
        self.queue = ReviewQueue(settings.queue_file)
        self.metrics = ServiceMetrics(
            version=__version__,
            git_commit=settings.git_commit,
            queue_depth=lambda: float(self.queue.depth()),
        )
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.shutting_down = False

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        faults = self.settings.faults
        log_event(
            self.logger, logging.INFO, event="start", version=__version__,
            git_commit=self.settings.git_commit, env=self.settings.env,
            port=self.settings.port, hash_mode=self.settings.hash_mode,
        )  # fmt: skip
        if faults.active:
            log_event(
                self.logger, logging.WARNING, event="faults_active", faults=",".join(faults.active)
            )
        if faults.queue_flood:
            stamp = _now_iso()
            self.queue.extend(
                [
                    {"at": stamp, "fault": "queue_flood", "n": n, "dhash": None}
                    for n in range(faults.queue_flood)
                ]
            )
            log_event(self.logger, logging.WARNING, event="queue_flood", items=faults.queue_flood)
        try:
            self.store.check_schema()
        except (SchemaNotMigrated, sqlite3.Error) as exc:
            log_event(self.logger, logging.ERROR, event="schema", reason=str(exc))

    def stop(self) -> None:
        self.queue.close()
        self.store.close()
        log_event(self.logger, logging.INFO, event="stopped")

    # --- health --------------------------------------------------------------------------
    def health(self) -> tuple[int, dict[str, Any]]:
        base: dict[str, Any] = {
            "version": __version__,
            "git_commit": self.settings.git_commit,
            "environment": self.settings.env,
            "faults": self.settings.faults.active,
        }
        if self.shutting_down:
            return 503, {"status": "degraded", "reason": "shutting down", **base}
        if self.settings.faults.health_failing:
            return 503, {"status": "degraded", "reason": "fault injected: health_failing", **base}
        try:
            hashes = self.store.count()
        except sqlite3.Error as exc:
            return 503, {"status": "degraded", "reason": f"database unavailable: {exc}", **base}
        except SchemaNotMigrated as exc:
            return 503, {
                "status": "degraded",
                "reason": str(exc).split(":")[0],
                "detail": exc.detail,
                **base,
            }
        return 200, {
            "status": "ok",
            "reason": "",
            "hashes": hashes,
            "queue_depth": self.queue.depth(),
            **base,
        }

    # --- hashing -------------------------------------------------------------------------
    def process(self, item: MediaItem, request_id: str) -> Outcome:
        try:
            self.store.check_schema()
        except sqlite3.Error as exc:
            return Outcome(503, {"error": f"database unavailable: {exc}", "code": "database"},
                           logging.ERROR, {"event": "hash", "reason": "database", "error": str(exc)})  # fmt: skip
        except SchemaNotMigrated as exc:
            return Outcome(503, {"error": str(exc), "code": "not_migrated"}, logging.ERROR,
                           {"event": "hash", "reason": "not_migrated"})  # fmt: skip
        self.metrics.extraction_attempts.inc()
        started = time.perf_counter()
        try:
            hashes, frame_errors = self._extract(item)
        except ExtractionError as exc:
            elapsed = time.perf_counter() - started
            self.metrics.extraction_failures.inc()
            self.metrics.hash_duration.observe(elapsed)
            level = logging.ERROR if exc.status >= 500 else logging.WARNING
            return Outcome(
                exc.status,
                {"error": exc.message, "code": exc.code, "request_id": request_id},
                level,
                {"event": "extraction_failed", "kind": item.kind, "code": exc.code,
                 "hash_time": elapsed * 1000, "source": item.source, "error": exc.message},
            )  # fmt: skip
        elapsed = time.perf_counter() - started
        self.metrics.hash_duration.observe(elapsed)
        try:
            results = [self._match(value, at, item) for at, value in hashes]
        except sqlite3.Error as exc:
            return Outcome(503, {"error": f"database unavailable: {exc}", "code": "database"},
                           logging.ERROR, {"event": "hash", "reason": "database", "error": str(exc)})  # fmt: skip
        except SchemaNotMigrated as exc:
            return Outcome(503, {"error": str(exc), "code": "not_migrated"}, logging.ERROR,
                           {"event": "hash", "reason": "not_migrated"})  # fmt: skip
        body: dict[str, Any] = {"request_id": request_id, "kind": item.kind,
                                "hash_time_ms": round(elapsed * 1000, 3)}  # fmt: skip
        if item.kind == "image":
            body.update(results[0])
        else:
            body["frames"] = results
            body["frame_errors"] = frame_errors
        verdicts = ",".join(str(r["result"]) for r in results)
        return Outcome(200, body, logging.INFO,
                       {"event": "hash", "kind": item.kind, "hash_time": elapsed * 1000,
                        "dhash": ",".join(str(r["dhash"]) for r in results), "result": verdicts})  # fmt: skip

    def _extract(
        self, item: MediaItem
    ) -> tuple[list[tuple[float | None, int]], list[dict[str, Any]]]:
        """(time, hash) per image or frame, and the frames that failed (video only)."""
        faults = self.settings.faults
        if faults.hash_latency_ms > 0:
            self._sleep(faults.hash_latency_ms / 1000.0)
        if (
            faults.extraction_failure_ratio > 0
            and self._rng.random() < faults.extraction_failure_ratio
        ):
            raise ExtractionError(
                f"injected extraction failure (fault extraction_failure_ratio={faults.extraction_failure_ratio:g})",
                code="injected_failure",
                status=500,
            )
        if item.kind == "image":
            data = item.data if item.data is not None else _read(item.path)
            value, _info = hash_bytes(
                data, mode=self.settings.hash_mode, max_pixels=self.settings.max_pixels
            )
            return [(None, value)], []
        return self._video_hashes(item)

    def _video_hashes(
        self, item: MediaItem
    ) -> tuple[list[tuple[float | None, int]], list[dict[str, Any]]]:
        if item.path is not None:
            frames = extract_frames(self.settings.ffmpeg, item.path, item.times)
        else:
            with tempfile.TemporaryDirectory(prefix="dhash-video-") as folder:
                upload = Path(folder) / "upload.bin"
                upload.write_bytes(item.data or b"")
                frames = extract_frames(self.settings.ffmpeg, upload, item.times)
        hashes: list[tuple[float | None, int]] = []
        errors: list[dict[str, Any]] = []
        for frame in frames:
            if frame.png is None:
                errors.append({"time": frame.time, "error": frame.error or "no frame"})
                log_event(
                    self.logger,
                    logging.WARNING,
                    event="frame_failed",
                    time=frame.time,
                    error=frame.error or "",
                )
                continue
            value, _info = hash_bytes(frame.png, max_pixels=self.settings.max_pixels)
            hashes.append((frame.time, value))
        return hashes, errors

    def _match(self, value: int, at: float | None, item: MediaItem) -> dict[str, Any]:
        nearest = self.store.nearest(value)
        distance = nearest[0].distance if nearest else None
        verdict = classify(distance, self.settings.thresholds)
        result: dict[str, Any] = {
            "dhash": to_hex(value),
            "result": verdict,
            "distance": distance,
            "nearest": [{"id": n.id, "dhash": n.dhash, "distance": n.distance, "source": n.source}
                        for n in nearest],
        }  # fmt: skip
        if at is not None:
            result["time"] = at
        if item.store and verdict == "low_confidence":
            self.queue.append({"at": _now_iso(), "dhash": to_hex(value), "source": item.source,
                               "nearest_id": nearest[0].id, "nearest_dhash": nearest[0].dhash,
                               "distance": distance, "kind": item.kind, "time": at})  # fmt: skip
            result["queued"] = True
        if item.store and verdict == "new":
            result["id"] = self.store.add(
                value, source=item.source, kind=item.kind, created_at=_now_iso()
            )
        return result


def _read(path: Path | None) -> bytes:
    if path is None:
        raise ExtractionError("nothing to hash: no bytes and no path", code="empty", status=400)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ExtractionError(
            f"could not read {path.name}: {exc.strerror}", code="unreadable"
        ) from exc
