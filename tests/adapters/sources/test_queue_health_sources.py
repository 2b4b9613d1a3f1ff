"""Queue files (counted like ``wc -l``) and the health endpoint as sources."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from dhash_gha.adapters.health import HealthProbe
from dhash_gha.adapters.sources.health import HealthSource
from dhash_gha.adapters.sources.queue_files import QueueFilesSource, count_lines
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.gates.sample import HEALTH_OK, QUEUE_ITEMS


def test_lines_are_counted_over_all_queue_files(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    folder = ws.data_dir("production")
    folder.mkdir(parents=True)
    (folder / "low_confidence.queue").write_text('{"id": 1}\n{"id": 2}\n', encoding="utf-8")
    (folder / "retry.queue").write_text('{"id": 3}\n', encoding="utf-8")
    (folder / "notes.txt").write_text("not a queue\n\n\n", encoding="utf-8")
    reading = QueueFilesSource(lambda: ws.queue_files("production")).collect()
    assert reading.values == {QUEUE_ITEMS: 3.0}
    assert reading.error is None


def test_a_torn_last_line_is_not_counted_like_wc_l(tmp_path: Path) -> None:
    path = tmp_path / "x.queue"
    path.write_bytes(b'{"id": 1}\n{"id": 2}\n{"id"')
    assert count_lines(path) == 2
    path.write_bytes(b'{"id": 1}\n{"id": 2}\n{"id": 3}\n')
    assert count_lines(path) == 3


def test_counting_reads_in_chunks_and_finds_newlines_at_chunk_edges(tmp_path: Path) -> None:
    path = tmp_path / "big.queue"
    path.write_bytes(b"ab\n" * 1001)
    for chunk in (1, 2, 3, 4, 7, 1 << 20):
        assert count_lines(path, chunk_bytes=chunk) == 1001


def test_no_queue_file_is_an_empty_queue(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    assert QueueFilesSource(lambda: ws.queue_files("production")).collect().values == {
        QUEUE_ITEMS: 0.0
    }


def test_a_vanished_file_is_skipped_and_an_unreadable_one_is_no_data(tmp_path: Path) -> None:
    kept = tmp_path / "a.queue"
    kept.write_text("x\n", encoding="utf-8")
    gone = tmp_path / "gone.queue"
    assert QueueFilesSource(lambda: [kept, gone]).collect().values == {QUEUE_ITEMS: 1.0}
    folder = tmp_path / "dir.queue"
    folder.mkdir()  # reading a directory fails on every platform
    reading = QueueFilesSource(lambda: [kept, folder]).collect()
    assert reading.values == {}
    assert reading.error is not None and "dir.queue" in reading.error


def test_listing_failure_is_no_data() -> None:
    def broken() -> list[Path]:
        raise PermissionError("denied")

    reading = QueueFilesSource(broken).collect()
    assert reading.values == {} and reading.error is not None and "denied" in reading.error


def test_health_ok_and_failing_against_a_real_server(scripted_server: Any) -> None:
    scripted_server.answer.body = '{"status": "ok"}'
    source = HealthSource(f"{scripted_server.url}/healthz", timeout=1)
    assert source.collect().values == {HEALTH_OK: 1.0}
    scripted_server.answer.status = 503
    scripted_server.answer.body = '{"status": "failing", "reason": "fault injected"}'
    reading = source.collect()
    assert reading.values == {HEALTH_OK: 0.0}
    assert (
        reading.error is not None and "503" in reading.error and "fault injected" in reading.error
    )


def test_health_timeout_and_refusal_are_failures_not_missing_data(scripted_server: Any) -> None:
    scripted_server.answer.delay = 1.0
    reading = HealthSource(f"{scripted_server.url}/healthz", timeout=0.2).collect()
    assert reading.values == {HEALTH_OK: 0.0}
    assert reading.error is not None and "timed out" in reading.error
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reading = HealthSource(f"http://127.0.0.1:{port}/healthz", timeout=1).collect()
    assert reading.values == {HEALTH_OK: 0.0}


def test_health_uses_the_injected_prober() -> None:
    calls: list[tuple[str, float]] = []

    def prober(url: str, timeout: float) -> HealthProbe:
        calls.append((url, timeout))
        return HealthProbe(True, 200, "HTTP 200", 1.0)

    assert HealthSource("http://h/healthz", timeout=3, prober=prober).collect().values == {
        HEALTH_OK: 1.0
    }
    assert calls == [("http://h/healthz", 3)]


def test_a_fifo_named_queue_is_no_data_not_a_hung_poll(tmp_path: Path) -> None:
    import os
    import threading

    import pytest

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    kept = tmp_path / "a.queue"
    kept.write_text("x\n", encoding="utf-8")
    pipe = tmp_path / "pipe.queue"
    os.mkfifo(pipe)  # opening it for reading blocks until a writer comes: never, here
    readings: list[Any] = []
    worker = threading.Thread(
        target=lambda: readings.append(QueueFilesSource(lambda: [kept, pipe]).collect()),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=5)
    if worker.is_alive():
        with pipe.open("wb"):  # let the blocked reader go, then fail
            pass
        worker.join(timeout=5)
        raise AssertionError("collect() blocked on a named pipe called *.queue")
    reading = readings[0]
    assert reading.values == {}
    assert reading.error is not None and "pipe.queue" in reading.error
    assert "not a regular file" in reading.error


def test_a_health_endpoint_trickling_its_answer_is_a_failed_check_at_the_timeout(
    trickle_server: str,
) -> None:
    import time

    started = time.monotonic()
    reading = HealthSource(f"{trickle_server}/healthz", timeout=0.5).collect()
    took = time.monotonic() - started
    assert reading.values == {HEALTH_OK: 0.0}
    assert reading.error is not None and "timed out" in reading.error
    assert took < 2.0, f"the health check took {took:.1f} s with a 0.5 s timeout"
