"""HTTP adapter: ``POST /hash``, ``GET /healthz``, ``GET /metrics`` on a stdlib server.

HTTP/1.0, one request per connection, one thread per request. Shutdown stops
accepting, then joins the in-flight request threads before the queue file is
closed (see ``run_until_stopped``).
"""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST

from dhash_app.logs import log_event
from dhash_app.media import MediaPathError, resolve_media_path
from dhash_app.service import HashService, MediaItem, MediaKind, Outcome
from dhash_app.video import VIDEO_SUFFIXES, looks_like_video, parse_times

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DRAIN_CHUNK = 1 << 20
_MAX_DRAIN = 256 * 1024 * 1024
_MAX_JSON = 64 * 1024


class ClientError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class DhashServer(ThreadingHTTPServer):
    # Non-daemon request threads: server_close() waits for in-flight requests.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], service: HashService) -> None:
        self.service = service
        super().__init__(address, DhashHandler)


class DhashHandler(BaseHTTPRequestHandler):
    server: DhashServer
    server_version = "dhash"
    timeout = 30  # seconds of client silence before the connection is dropped (slow clients)
    error_content_type = "application/json"
    error_message_format = '{"error": "%(message)s", "code": "http_%(code)d"}'

    def log_message(self, format: str, *args: Any) -> None:
        """Access lines go to the service log's own events, not stderr."""

    # --- routing -------------------------------------------------------------------------
    def do_GET(self) -> None:
        try:
            self._get()
        except Exception as exc:  # the boundary: one bad request never takes the service down
            log_event(self.server.service.logger, logging.ERROR, event="internal_error",
                      error=f"{type(exc).__name__}: {exc}")  # fmt: skip
            self._json(500, {"error": f"internal error: {type(exc).__name__}", "code": "internal"})

    def _get(self) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            status, body = self.server.service.health()
            self._json(status, body)
        elif path == "/metrics":
            self._send(200, self.server.service.metrics.render(), CONTENT_TYPE_LATEST)
        else:
            self._json(
                404,
                {
                    "error": f"no such endpoint {path!r}: use /hash, /healthz or /metrics",
                    "code": "not_found",
                },
            )

    def do_POST(self) -> None:
        try:
            self._post()
        except Exception as exc:  # the boundary: one bad request never takes the service down
            log_event(self.server.service.logger, logging.ERROR, event="internal_error",
                      error=f"{type(exc).__name__}: {exc}")  # fmt: skip
            self._json(500, {"error": f"internal error: {type(exc).__name__}", "code": "internal"})

    def _post(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/hash":
            self._json(
                404, {"error": f"no such endpoint {url.path!r}: POST /hash", "code": "not_found"}
            )
            return
        request_id = self._request_id()
        service = self.server.service
        try:
            item = self._media_item(parse_qs(url.query))
        except ClientError as exc:
            log_event(service.logger, logging.WARNING, request_id=request_id, event="rejected",
                      status=exc.status, code=exc.code, error=exc.message)  # fmt: skip
            self._json(
                exc.status, {"error": exc.message, "code": exc.code, "request_id": request_id}
            )
            return
        outcome: Outcome = service.process(item, request_id)
        log_event(
            service.logger,
            outcome.level,
            request_id=request_id,
            status=outcome.status,
            **outcome.log,
        )
        self._json(outcome.status, outcome.body, request_id)

    def do_PUT(self) -> None:
        self._json(
            405,
            {
                "error": "method not allowed: POST /hash, GET /healthz, GET /metrics",
                "code": "method",
            },
        )

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    # --- request parsing -----------------------------------------------------------------
    def _request_id(self) -> str:
        given = self.headers.get("X-Request-Id", "")
        return given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise ClientError(
                411, "chunked uploads are not supported: send Content-Length", "length_required"
            )
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise ClientError(411, "Content-Length header required", "length_required")
        try:
            length = int(length_text)
        except ValueError:
            raise ClientError(400, f"bad Content-Length {length_text!r}", "bad_length") from None
        if length < 0:
            raise ClientError(400, f"bad Content-Length {length_text!r}", "bad_length")
        limit = self.server.service.settings.max_upload_bytes
        if length > limit:
            self._drain(length)
            raise ClientError(
                413,
                f"upload of {length} bytes exceeds the limit of {limit} bytes; send a smaller file "
                "or a path under the media root",
                "too_large",
            )
        if length == 0:
            raise ClientError(
                400, "empty upload: the request body has no bytes; send an image", "empty"
            )
        return self.rfile.read(length)

    def _drain(self, length: int) -> None:
        """Read and discard a refused body so the client sees our answer, not a reset."""
        if length > _MAX_DRAIN:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(_DRAIN_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)

    def _media_item(self, query: dict[str, list[str]]) -> MediaItem:
        store = query.get("store", ["1"])[-1].lower() not in ("0", "false", "no")
        times = self.server.service.settings.video_times
        if "times" in query:
            try:
                times = parse_times(query["times"][-1])
            except ValueError as exc:
                raise ClientError(400, str(exc), "bad_times") from None
        kind_param = query.get("kind", [""])[-1]
        if kind_param not in ("", "image", "video"):
            raise ClientError(400, f"kind must be image or video, got {kind_param!r}", "bad_kind")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            return self._path_item(store, times, kind_param)
        data = self._body()
        kind: MediaKind = "video" if (
            kind_param == "video" or content_type.startswith("video/")
            or (kind_param == "" and looks_like_video(data))
        ) else "image"  # fmt: skip
        return MediaItem(kind=kind, source="upload", data=data, store=store, times=times)

    def _path_item(self, store: bool, times: tuple[float, ...], kind_param: str) -> MediaItem:
        raw = self._body()
        if len(raw) > _MAX_JSON:
            raise ClientError(413, f"JSON body larger than {_MAX_JSON} bytes", "too_large")
        try:
            request = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ClientError(400, f"body is not valid JSON: {exc}", "bad_json") from None
        if not isinstance(request, dict) or not isinstance(request.get("path"), str):
            raise ClientError(
                400, 'JSON body must be {"path": "<file under the media root>"}', "bad_json"
            )
        settings = self.server.service.settings
        try:
            path = resolve_media_path(settings.media_root, request["path"])
        except MediaPathError as exc:
            raise ClientError(exc.status, exc.message, exc.code) from None
        if path.stat().st_size > settings.max_upload_bytes:
            raise ClientError(
                413,
                f"file {request['path']!r} exceeds {settings.max_upload_bytes} bytes",
                "too_large",
            )
        if isinstance(request.get("store"), bool):
            store = request["store"]
        if "times" in request:
            try:
                times = parse_times(",".join(str(t) for t in request["times"]))
            except (TypeError, ValueError) as exc:
                raise ClientError(400, str(exc), "bad_times") from None
        kind: MediaKind = "video" if kind_param == "video" or (
            kind_param == "" and path.suffix.lower() in VIDEO_SUFFIXES) else "image"  # fmt: skip
        return MediaItem(kind=kind, source=request["path"], path=path, store=store, times=times)

    # --- responses -----------------------------------------------------------------------
    def _json(self, status: int, body: dict[str, Any], request_id: str | None = None) -> None:
        payload = (json.dumps(body, sort_keys=True) + "\n").encode("utf-8")
        self._send(status, payload, "application/json", request_id)

    def _send(
        self, status: int, payload: bytes, content_type: str, request_id: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if request_id:
            self.send_header("X-Request-Id", request_id)
        self.end_headers()
        self.wfile.write(payload)


def install_stop_signals(request_stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT on every platform; SIGBREAK (CTRL_BREAK_EVENT) on Windows."""

    def handler(signum: int, _frame: object) -> None:
        request_stop()

    names = ["SIGTERM", "SIGINT", "SIGBREAK"]
    for name in names:
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, handler)


def watch_stop_file(
    path: Path, request_stop: Callable[[], None], stopping: threading.Event, interval: float = 0.2
) -> threading.Thread:
    """Call ``request_stop`` once ``path`` exists (the supervisor's request; Windows has no
    signal that reaches a process detached from the console)."""

    def watch() -> None:
        while not stopping.wait(interval):
            if path.exists():
                request_stop()
                return

    thread = threading.Thread(target=watch, name="dhash-stop-file", daemon=True)
    thread.start()
    return thread


def run_until_stopped(server: DhashServer, stop_file: Path | None = None) -> None:
    """Serve until a stop signal (or ``stop_file`` appears), then drain: stop accepting,
    finish in-flight, close files."""
    service = server.service
    stopping = threading.Event()

    def request_stop() -> None:
        if not stopping.is_set():
            stopping.set()
            service.shutting_down = True
            log_event(service.logger, logging.INFO, event="stopping",
                      detail="stop signal: finishing in-flight requests")  # fmt: skip
            # shutdown() waits for serve_forever to return, so never call it on the serving thread.
            threading.Thread(target=server.shutdown, name="dhash-shutdown", daemon=True).start()

    install_stop_signals(request_stop)
    if stop_file is not None:
        watch_stop_file(stop_file, request_stop, stopping)
    service.start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()  # joins in-flight request threads
        service.stop()
