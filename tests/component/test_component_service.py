"""The running service over real HTTP: hashing, matching thresholds, queue, metrics, logs, golden."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from component_service import SRC, Service, apply_migrations, flip_bits, image_with_hash
from workspaces import copy_example_workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    ws = copy_example_workspace(tmp_path_factory.mktemp("component") / "ws")
    apply_migrations(ws, "staging")
    media = ws / "media"
    media.mkdir()
    (media / "album").mkdir()
    (media / "album" / "photo.png").write_bytes(image_with_hash(0x5A5A5A5A12345678))
    running = Service(ws, "staging", {"DHASH_GIT_COMMIT": "abc1234"})
    yield running
    running.stop()


def _fresh_base(seed: int) -> int:
    return random.Random(seed).getrandbits(64)


def test_health_is_ok_and_reports_build(service: Service) -> None:
    reply = service.health()
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ok"
    assert body["git_commit"] == "abc1234"
    assert body["environment"] == "staging"


def test_new_then_match_with_the_exact_hash(service: Service) -> None:
    base = _fresh_base(1)
    first = service.post(image_with_hash(base))
    assert first.status_code == 200, first.text
    assert first.json()["dhash"] == f"{base:016x}"
    assert first.json()["result"] == "new"
    again = service.post(image_with_hash(base)).json()
    assert again["result"] == "match"
    assert again["distance"] == 0
    assert again["nearest"][0]["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("flipped", "verdict", "queued"),
    [
        (8, "match", False),
        (9, "low_confidence", True),
        (16, "low_confidence", True),
        (17, "new", False),
    ],
)
def test_thresholds_at_their_edges(
    service: Service, flipped: int, verdict: str, queued: bool
) -> None:
    base = _fresh_base(100 + flipped)
    assert service.post(image_with_hash(base)).json()["result"] == "new"
    queue = service.ws / "data" / "staging" / "low_confidence.queue"
    before = queue.read_text(encoding="utf-8").splitlines() if queue.exists() else []
    depth_before = service.metrics()["dhash_low_confidence_queue_depth"]
    reply = service.post(image_with_hash(flip_bits(base, flipped))).json()
    assert reply["result"] == verdict
    assert reply["distance"] == flipped
    after = queue.read_text(encoding="utf-8").splitlines() if queue.exists() else []
    assert len(after) - len(before) == (1 if queued else 0)
    assert service.metrics()["dhash_low_confidence_queue_depth"] - depth_before == (
        1 if queued else 0
    )
    if queued:
        item = json.loads(after[-1])
        assert item["dhash"] == f"{flip_bits(base, flipped):016x}"
        assert item["nearest_dhash"] == f"{base:016x}"
        assert item["distance"] == flipped


def test_store_0_looks_up_without_storing_or_queueing(service: Service) -> None:
    base = _fresh_base(7)
    assert service.post(image_with_hash(base), "?store=0").json()["result"] == "new"
    assert service.post(image_with_hash(base), "?store=0").json()["result"] == "new"
    assert service.post(image_with_hash(base)).json()["result"] == "new"
    queue = service.ws / "data" / "staging" / "low_confidence.queue"
    lines_before = queue.read_text().count("\n") if queue.exists() else 0
    assert (
        service.post(image_with_hash(flip_bits(base, 12)), "?store=0").json()["result"]
        == "low_confidence"
    )
    assert (queue.read_text().count("\n") if queue.exists() else 0) == lines_before


def test_metrics_move_with_requests(service: Service) -> None:
    before = service.metrics()
    assert service.post(image_with_hash(_fresh_base(8))).status_code == 200
    assert service.post(b"definitely not an image").status_code == 422
    after = service.metrics()
    assert after["dhash_extraction_attempts_total"] - before["dhash_extraction_attempts_total"] == 2
    assert after["dhash_extraction_failures_total"] - before["dhash_extraction_failures_total"] == 1
    assert (
        after["dhash_hash_duration_seconds_count"] - before["dhash_hash_duration_seconds_count"]
        == 2
    )
    assert after['dhash_build_info{git_commit="abc1234",version="1.0.0"}'] == 1.0
    assert 'dhash_hash_duration_seconds_bucket{le="2.0"}' in after
    assert 'dhash_hash_duration_seconds_bucket{le="1.75"}' in after


def test_path_under_the_media_root_is_hashed(service: Service) -> None:
    reply = service.post_path("album/photo.png")
    assert reply.status_code == 200, reply.text
    assert reply.json()["dhash"] == "5a5a5a5a12345678"
    assert service.post_path("album/missing.png").status_code == 404


def test_service_log_has_request_ids_and_hash_times(service: Service) -> None:
    reply = service.post(
        image_with_hash(_fresh_base(9)), headers={"X-Request-Id": "req-log-check-1"}
    )
    assert reply.headers["X-Request-Id"] == "req-log-check-1"
    service.post(b"garbage bytes", headers={"X-Request-Id": "req-log-check-2"})
    lines = service.log_text().splitlines()
    ok_line = next(line for line in lines if "request_id=req-log-check-1" in line)
    assert (
        " INFO " in ok_line
        and "hash_time=" in ok_line
        and ok_line.split("hash_time=")[1].split()[0].endswith("ms")
    )
    bad_line = next(line for line in lines if "request_id=req-log-check-2" in line)
    assert " WARNING " in bad_line and "event=extraction_failed" in bad_line


def test_unknown_endpoints_and_methods(service: Service) -> None:
    import httpx

    assert httpx.get(service.url + "/nope").status_code == 404
    assert httpx.put(service.url + "/hash", content=b"x").status_code == 405


def test_golden_validation_passes_and_fails_on_mismatch(service: Service, tmp_path: Path) -> None:
    from dhash_app.golden import validate

    golden = service.ws / "golden"
    result = validate(service.url, golden_dir=golden)
    assert result.ok, result.lines()
    assert result.checked == len(json.loads((golden / "expected.json").read_text())["images"])

    broken = tmp_path / "golden"
    broken.mkdir()
    expected = json.loads((golden / "expected.json").read_text())
    for entry in expected["images"]:
        (broken / entry["file"]).write_bytes((golden / entry["file"]).read_bytes())
    expected["images"][0]["dhash"] = "0000000000000000"
    (broken / "expected.json").write_text(json.dumps(expected))
    cli = [sys.executable, "-m", "dhash_app", "golden", "--url", service.url, "--golden-dir"]
    done = subprocess.run([*cli, str(broken)], cwd=SRC, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MISMATCH " + expected["images"][0]["file"] in done.stdout
    ok = subprocess.run(
        [*cli, str(golden), "--json"], cwd=SRC, capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    missing = subprocess.run(
        [*cli, str(tmp_path / "nowhere")], cwd=SRC, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2
    assert "expected.json not found" in missing.stderr
