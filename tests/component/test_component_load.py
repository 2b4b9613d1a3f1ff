"""The load generator drives a local service with a bounded mix of images, then stops."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from component_service import SRC, Service, apply_migrations
from dhash_app.load import LoadError, LoadPlan, parse_mix


@pytest.mark.slow
def test_load_run_sends_the_mix_and_moves_the_metrics(example_workspace: Path) -> None:
    apply_migrations(example_workspace, "staging")
    service = Service(example_workspace, "staging")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dhash_app", "load", "--url", service.url,
             "--rate", "40", "--duration", "1.5", "--seed", "3"],
            cwd=SRC, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["planned"] == 60 and report["sent"] == 60 and report["errors"] == 0
        assert set(report["by_kind"]) <= {"known", "near", "new"} and report["by_kind"]["known"] > 0
        assert report["by_result"].get("match", 0) > 0 and report["by_result"].get("new", 0) > 0
        assert report["latency_ms"]["p95"] is not None
        assert report["seconds"] < 10
        metrics = service.metrics()
        assert metrics["dhash_extraction_attempts_total"] >= 60 + 16  # run + the known pool
    finally:
        service.stop()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"url": "http://example.com:8780"}, "a service on this machine"),
        ({"url": "https://127.0.0.1:8780"}, "http://127.0.0.1:PORT"),
        ({"rate": 0}, "--rate"),
        ({"rate": 10_000}, "--rate"),
        ({"duration": 0}, "--duration"),
        ({"duration": 100_000}, "--duration"),
        ({"workers": 0}, "--workers"),
    ],
)
def test_load_plan_refuses_unbounded_or_remote_runs(kwargs: dict[str, object], words: str) -> None:
    params: dict[str, object] = {
        "url": "http://127.0.0.1:8780",
        "rate": 5,
        "duration": 1,
        "mix": {"new": 1.0},
    }
    params.update(kwargs)
    with pytest.raises(LoadError, match="must") as caught:
        LoadPlan(**params)  # type: ignore[arg-type]
    assert words in str(caught.value)


def test_mix_parsing() -> None:
    assert parse_mix("known=0.5,near=0.3,new=0.2") == {"known": 0.5, "near": 0.3, "new": 0.2}
    for bad in ("known=x", "old=1", "new=0", "near=-1,new=2"):
        with pytest.raises(LoadError):
            parse_mix(bad)


def test_load_cli_refuses_a_remote_url_with_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dhash_app", "load", "--url", "http://10.0.0.1:80", "--rate", "1", "--duration", "1"],
        cwd=SRC, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "a service on this machine" in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal")
def test_sigterm_stops_a_load_run_early_with_a_report(example_workspace: Path) -> None:
    import signal
    import time

    apply_migrations(example_workspace, "staging")
    service = Service(example_workspace, "staging")
    try:
        load = subprocess.Popen(
            [sys.executable, "-m", "dhash_app", "load", "--url", service.url,
             "--rate", "5", "--duration", "60"],
            cwd=SRC, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.5)
        started = time.monotonic()
        load.send_signal(signal.SIGTERM)
        out, err = load.communicate(timeout=30)
        assert time.monotonic() - started < 10
        report = json.loads(out)
        assert load.returncode == 0, err
        assert 0 < report["sent"] < report["planned"] == 300
        assert report["skipped"] == report["planned"] - report["sent"]
    finally:
        service.stop()


def test_a_slow_service_makes_requests_skip_instead_of_piling_up() -> None:
    import http.server
    import threading

    from dhash_app.load import run_load

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            threading.Event().wait(0.3)
            body = b'{"result": "new"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        plan = LoadPlan(url=url, rate=50, duration=0.5, mix={"new": 1.0}, workers=1, timeout=0.5)
        report = run_load(plan)
    finally:
        server.shutdown()
        server.server_close()
    assert report.planned == 25
    assert report.skipped > 0 and report.sent + report.skipped == 25
    assert report.seconds < 3
