"""A real HTTP server on 127.0.0.1 whose answer each test chooses: metrics, garbage, 500, slow."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Answer:
    status: int = 200
    body: str = ""
    content_type: str = "text/plain; version=0.0.4"
    delay: float = 0.0
    requests: list[str] = field(default_factory=list)


class ScriptedServer:
    def __init__(self) -> None:
        self.answer = Answer()
        answer_of = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer = answer_of.answer
                answer.requests.append(self.path)
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.body.encode("utf-8")
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.close()
