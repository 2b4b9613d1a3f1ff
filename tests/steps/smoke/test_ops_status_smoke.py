"""status and smoke checks on their own: bad state files, metrics that do not parse."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.migrations import read_state
from dhash_gha.adapters.releases import read_release
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import BadInput, ConfigError
from dhash_gha.steps.smoke import EXPECTED_FAMILIES, check_metrics, golden_failure, missing_families

Cli = Callable[..., tuple[int, str, str]]


class _Metrics(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def metrics_server() -> Iterator[tuple[str, type[_Metrics]]]:
    handler = type("Handler", (_Metrics,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metrics", handler
    server.shutdown()
    server.server_close()


def test_metrics_check_parses_with_the_prometheus_parser(
    metrics_server: tuple[str, type[_Metrics]],
) -> None:
    url, handler = metrics_server
    config = {"metrics": {"url": url}}
    handler.body = b"this is { not prometheus\n"
    result = check_metrics(config)
    assert not result.ok and "does not parse" in result.detail
    handler.body = b'# TYPE dhash_build_info gauge\ndhash_build_info{version="1"} 1\n'
    result = check_metrics(config)
    assert not result.ok and "missing metric families: dhash_hash_duration_seconds" in result.detail


def test_missing_families_accepts_a_full_exposition() -> None:
    text = (
        "# TYPE dhash_hash_duration_seconds histogram\n"
        'dhash_hash_duration_seconds_bucket{le="+Inf"} 0\n'
        "dhash_hash_duration_seconds_count 0\ndhash_hash_duration_seconds_sum 0\n"
        "# TYPE dhash_extraction_attempts counter\ndhash_extraction_attempts_total 0\n"
        "# TYPE dhash_extraction_failures counter\ndhash_extraction_failures_total 0\n"
        "# TYPE dhash_low_confidence_queue_depth gauge\ndhash_low_confidence_queue_depth 0\n"
        "# TYPE dhash_build info\n"
        'dhash_build_info{version="1.0.0"} 1\n'
    )
    assert missing_families(text) == []
    assert len(EXPECTED_FAMILIES) == 5


def test_golden_failure_names_the_first_mismatch() -> None:
    payload = {
        "cases": [
            {"file": "a.png", "ok": True},
            {"file": "b.png", "ok": False, "expected": "00ff", "actual": "00fe"},
        ]
    }
    assert golden_failure(payload) == "1 mismatch(es) of 2, first: b.png: expected 00ff, got 00fe"
    assert golden_failure({"cases": []}) is None
    assert golden_failure("garbage") is None


def test_status_needs_an_environment(example_workspace: Path, run_cli: Cli) -> None:
    code, _, err = run_cli("--root", str(example_workspace), "status")
    assert code == 2 and "status needs --env" in err


def test_status_of_an_environment_with_nothing_deployed(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    code, out, _ = run_cli(
        "--root", str(example_workspace), "status", "--env", "staging", environ=clean_environ
    )
    assert code == 0
    assert "release:      none deployed" in out and "migrations:   0000" in out
    assert "health:       ❌ unreachable" in out and "monitor:      no monitoring run yet" in out


def test_malformed_state_files_are_refused_with_the_fix(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    ws.release_record("staging").parent.mkdir(parents=True, exist_ok=True)
    ws.release_record("staging").write_text("{broken", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"release record .* is unreadable") as caught:
        read_release(ws, "staging")
    assert caught.value.tip and "restore it from the latest backup" in caught.value.tip
    ws.release_record("staging").write_text(json.dumps({"no": "id"}), encoding="utf-8")
    with pytest.raises(ConfigError, match="no release_id"):
        read_release(ws, "staging")
    ws.migration_state("staging").write_text("[]", encoding="utf-8")
    with pytest.raises(BadInput, match="has no 'applied' list"):
        read_state(ws, "staging")
    assert load_env_config(ws, "staging")["environment"] == "staging"
