"""Graceful shutdown: in-flight requests finish, the queue never holds a torn line."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from component_service import Service, apply_migrations, flip_bits, image_with_hash


@pytest.mark.slow
@pytest.mark.skipif(
    os.name == "nt", reason="POSIX signal; Windows uses CTRL_BREAK_EVENT (see below)"
)
def test_sigterm_finishes_in_flight_requests_then_exits(example_workspace: Path) -> None:
    apply_migrations(example_workspace, "staging")
    service = Service(example_workspace, "staging", {"DHASH_FAULT_HASH_LATENCY_MS": "1200"})
    replies: list[httpx.Response] = []
    base = 0x0F0F_0000_FFFF_1234

    def send(value: int) -> None:
        replies.append(service.post(image_with_hash(value)))

    try:
        service.post(image_with_hash(base))  # known, so the next ones land in the review queue
        senders = [threading.Thread(target=send, args=(flip_bits(base, 10 + n),)) for n in range(4)]
        for sender in senders:
            sender.start()
        time.sleep(0.5)  # all four are inside the 1.2 s injected latency now
        started = time.monotonic()
        code = service.stop(timeout=15)
        for sender in senders:
            sender.join(timeout=15)
    finally:
        service.stop()
    assert code == 0
    assert time.monotonic() - started >= 0.5  # it waited for the in-flight requests
    assert sorted(r.status_code for r in replies) == [200] * 4
    assert all(r.json()["result"] == "low_confidence" for r in replies)
    queue = example_workspace / "data" / "staging" / "low_confidence.queue"
    raw = queue.read_bytes()
    assert raw.endswith(b"\n")
    assert len([json.loads(line) for line in raw.decode().splitlines()]) == 4
    assert "event=stopping" in service.log_text() and "event=stopped" in service.log_text()
    with pytest.raises(httpx.ConnectError):
        httpx.get(service.url + "/healthz", timeout=2)


def test_stop_signals_include_sigbreak_where_it_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    from dhash_app import server

    registered: dict[int, object] = {}
    fake = SimpleNamespace(
        SIGTERM=15, SIGINT=2, SIGBREAK=21, signal=lambda n, h: registered.setdefault(n, h)
    )
    monkeypatch.setattr(server, "signal", fake)
    calls: list[str] = []
    server.install_stop_signals(lambda: calls.append("stop"))
    assert sorted(registered) == [2, 15, 21]
    handler = registered[21]
    handler(21, None)  # type: ignore[operator]
    assert calls == ["stop"]

    registered.clear()
    monkeypatch.setattr(server, "signal", SimpleNamespace(SIGTERM=15, SIGINT=2, signal=fake.signal))
    server.install_stop_signals(lambda: None)
    assert sorted(registered) == [2, 15]
