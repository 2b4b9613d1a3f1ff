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


@pytest.fixture
def trickle_server() -> Iterator[str]:
    """A server that answers 200 with a 100-byte body sent one byte every 0.1 s (its URL)."""
    import socket

    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def trickle() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(4096)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
            conn.sendall(head)
            for _ in range(100):
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(b"#")
                except OSError:
                    return

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        listener.close()
        server.join(timeout=5)
