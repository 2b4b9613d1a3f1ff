"""Pure logic of the component: thresholds, fault settings, path rules, frame times, logs, queue."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import component_service
import pytest
from dhash_app.faults import FaultConfigError, Faults, faults_from
from dhash_app.golden import GoldenError, load_expected
from dhash_app.logs import DailyFileHandler, logfmt
from dhash_app.matching import Thresholds, classify
from dhash_app.media import MediaPathError, relative_parts, resolve_media_path
from dhash_app.review_queue import ReviewQueue, count_lines
from dhash_app.settings import SettingsError, load_settings
from dhash_app.video import looks_like_video, parse_times


@pytest.mark.parametrize(
    ("distance", "verdict"),
    [
        (None, "new"),
        (0, "match"),
        (8, "match"),
        (9, "low_confidence"),
        (16, "low_confidence"),
        (17, "new"),
        (64, "new"),
    ],
)
def test_classify_edges(distance: int | None, verdict: str) -> None:
    assert classify(distance, Thresholds(8, 16)) == verdict


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="match_distance <= ambiguous_distance"):
        Thresholds(10, 5)
    assert classify(3, Thresholds(3, 3)) == "match"
    assert classify(4, Thresholds(3, 3)) == "new"


def test_faults_environment_wins_over_config() -> None:
    config = {
        "hash_latency_ms": 10,
        "extraction_failure_ratio": 0.5,
        "health_failing": True,
        "queue_flood": 3,
    }
    assert faults_from(config, {}) == Faults(10, 0.5, True, 3)
    environ = {
        "DHASH_FAULT_HASH_LATENCY_MS": "2500",
        "DHASH_FAULT_EXTRACTION_FAILURE_RATIO": "0",
        "DHASH_FAULT_HEALTH_FAILING": "off",
        "DHASH_FAULT_QUEUE_FLOOD": "1001",
    }
    merged = faults_from(config, environ)
    assert merged == Faults(2500, 0.0, False, 1001)
    assert merged.active == ["hash_latency_ms=2500", "queue_flood=1001"]
    assert faults_from(config, {"DHASH_FAULT_HASH_LATENCY_MS": " "}).hash_latency_ms == 10
    assert Faults().active == []


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"DHASH_FAULT_HASH_LATENCY_MS": "slow"}, "must be a number"),
        ({"DHASH_FAULT_HASH_LATENCY_MS": "-1"}, ">= 0"),
        ({"DHASH_FAULT_EXTRACTION_FAILURE_RATIO": "1.5"}, "within 0..1"),
        ({"DHASH_FAULT_HEALTH_FAILING": "maybe"}, "true/false"),
        ({"DHASH_FAULT_QUEUE_FLOOD": "-3"}, ">= 0"),
    ],
)
def test_bad_fault_values_name_the_variable(environ: dict[str, str], words: str) -> None:
    with pytest.raises(FaultConfigError, match=words) as caught:
        faults_from({}, environ)
    assert next(iter(environ)) in str(caught.value)


@pytest.mark.parametrize(
    ("requested", "words"),
    [
        ("", "empty"),
        ("a\x00b", "NUL"),
        ("/etc/passwd", "absolute"),
        ("\\\\server\\share\\x.png", "absolute"),
        ("C:\\Windows\\win.ini", "absolute"),
        ("C:relative.png", "absolute"),
        ("album/../../secret.png", "'..'"),
        ("album\\..\\..\\secret.png", "'..'"),
        (".", "media root itself"),
    ],
)
def test_relative_parts_refuses_escapes_on_every_platform(requested: str, words: str) -> None:
    with pytest.raises(MediaPathError, match=words):
        relative_parts(requested)


def test_relative_parts_accepts_both_separators() -> None:
    assert relative_parts("album/2024\\photo.png") == ("album", "2024", "photo.png")
    assert relative_parts("./photo.png") == ("photo.png",)


def test_resolve_media_path(tmp_path: Path) -> None:
    (tmp_path / "media" / "sub").mkdir(parents=True)
    (tmp_path / "media" / "sub" / "a.png").write_bytes(b"x")
    assert (
        resolve_media_path(tmp_path / "media", "sub/a.png")
        == (tmp_path / "media" / "sub" / "a.png").resolve()
    )
    with pytest.raises(MediaPathError, match="not a file"):
        resolve_media_path(tmp_path / "media", "sub")
    with pytest.raises(MediaPathError, match="no media root"):
        resolve_media_path(None, "sub/a.png")


def test_frame_times() -> None:
    assert parse_times("0, 1.5,3") == (0.0, 1.5, 3.0)
    for bad in ("", "x", "-1", "nan", ",".join(["1"] * 17)):
        with pytest.raises(ValueError, match="frame times"):
            parse_times(bad)


def test_video_sniffing() -> None:
    assert looks_like_video(b"\x00\x00\x00\x20ftypisom" + b"\x00" * 20)
    assert looks_like_video(b"\x1a\x45\xdf\xa3" + b"\x00" * 20)
    assert looks_like_video(b"RIFF\x00\x00\x00\x00AVI LIST")
    assert not looks_like_video(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    assert not looks_like_video(b"RIFF\x00\x00\x00\x00WEBPVP8 ")


def test_logfmt_quotes_what_needs_quoting() -> None:
    line = logfmt({"request_id": "abc", "hash_time": 12.345, "error": 'bad "x" here', "n": 3})
    assert line == 'request_id=abc hash_time=12.3ms error="bad \\"x\\" here" n=3'


def test_daily_log_file_switches_with_the_utc_date(tmp_path: Path) -> None:
    handler = DailyFileHandler(tmp_path, "production")
    for stamp in (
        datetime(2026, 1, 1, 23, 59, tzinfo=timezone.utc),
        datetime(2026, 1, 2, 0, 1, tzinfo=timezone.utc),
    ):
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "event=boom", None, None)
        record.created = stamp.timestamp()
        handler.emit(record)
    handler.close()
    first = (tmp_path / "dhash_production_20260101.log").read_text()
    second = (tmp_path / "dhash_production_20260102.log").read_text()
    assert first.startswith("2026-01-01T23:59:00.000Z ERROR event=boom")
    assert second.startswith("2026-01-02T00:01:00.000Z ERROR ")


def test_review_queue_appends_whole_lines_and_refuses_after_close(tmp_path: Path) -> None:
    path = tmp_path / "data" / "low_confidence.queue"
    assert count_lines(path) == 0
    queue = ReviewQueue(path)
    queue.append({"dhash": "00000000000000ff", "distance": 9})
    queue.extend([{"n": 1}, {"n": 2}])
    assert queue.depth() == 3 == count_lines(path)
    assert next(json.loads(line) for line in path.read_text().splitlines())["distance"] == 9
    queue.close()
    with pytest.raises(RuntimeError, match="shutting down"):
        queue.append({"n": 3})
    assert count_lines(path) == 3


def test_golden_set_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(GoldenError, match=r"expected\.json not found"):
        load_expected(tmp_path)
    (tmp_path / "expected.json").write_text("{not json")
    with pytest.raises(GoldenError, match="not valid JSON"):
        load_expected(tmp_path)
    (tmp_path / "expected.json").write_text(
        json.dumps({"images": [{"file": "gone.png", "dhash": "00"}]})
    )
    with pytest.raises(GoldenError, match="does not exist"):
        load_expected(tmp_path)


def test_settings_errors(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="invalid environment name"):
        load_settings(tmp_path, "../prod", {})
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path, "production", {})
    (tmp_path / "config" / "production").mkdir(parents=True)
    (tmp_path / "config" / "production" / "dhash.json").write_text(
        '{"component": {"matching": {"match_distance": 20}}}'
    )
    with pytest.raises(SettingsError, match="ambiguous_distance"):
        load_settings(tmp_path, "production", {})
    (tmp_path / "config" / "production" / "dhash.json").write_text('{"component": {}}')
    with pytest.raises(SettingsError, match="DHASH_HASH_MODE"):
        load_settings(tmp_path, "production", {"DHASH_HASH_MODE": "turbo"})
    settings = load_settings(
        tmp_path, "production", {"DHASH_GIT_COMMIT": "deadbee", "DHASH_HASH_MODE": "fast"}
    )
    assert (settings.git_commit, settings.hash_mode, settings.media_root) == (
        "deadbee",
        "fast",
        None,
    )
    assert settings.queue_file == tmp_path / "data" / "production" / "low_confidence.queue"


def test_golden_set_matches_the_reference_and_its_generator() -> None:
    import subprocess
    import sys

    golden = component_service.REPO / "examples" / "dhash-app" / "golden"
    done = subprocess.run(
        [sys.executable, str(golden / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
