"""Video frames through ffmpeg; no ffmpeg or an undecodable file is a counted failure, not a crash."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import imagehash
import pytest
from component_service import Service, apply_migrations
from PIL import Image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed"),
]


def _make_clip(path: Path) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", "testsrc=size=96x64:rate=10:duration=2", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def _reference_frame_hash(clip: Path, at: float) -> str:
    png = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{at:.3f}", "-i", str(clip),
         "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "pipe:1"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    return str(imagehash.dhash(Image.open(io.BytesIO(png))))


def test_frames_are_hashed_at_the_requested_times(example_workspace: Path) -> None:
    media = example_workspace / "media"
    media.mkdir()
    clip = _make_clip(media / "clip.mp4")
    apply_migrations(example_workspace, "staging")
    service = Service(example_workspace, "staging")
    try:
        before = service.metrics()
        reply = service.post(clip.read_bytes(), "?times=0,1.5,30")
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["kind"] == "video"
        assert [f["time"] for f in body["frames"]] == [0.0, 1.5]
        assert [f["dhash"] for f in body["frames"]] == [
            _reference_frame_hash(clip, 0.0),
            _reference_frame_hash(clip, 1.5),
        ]
        assert [e["time"] for e in body["frame_errors"]] == [30.0]
        by_path = service.post_path("clip.mp4", times=[1.5]).json()
        assert by_path["frames"][0]["result"] == "match"
        after = service.metrics()
        assert (
            after["dhash_extraction_attempts_total"] - before["dhash_extraction_attempts_total"]
            == 2
        )
        assert after["dhash_extraction_failures_total"] == before["dhash_extraction_failures_total"]

        garbage = service.post(b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 5000)
        assert garbage.status_code == 422
        assert "video could not be decoded by ffmpeg" in garbage.json()["error"]
        assert (
            service.metrics()["dhash_extraction_failures_total"]
            == before["dhash_extraction_failures_total"] + 1
        )
        assert service.health().status_code == 200
    finally:
        service.stop()


def test_missing_ffmpeg_is_a_counted_failure_with_a_fix(
    example_workspace: Path, tmp_path: Path
) -> None:
    clip = _make_clip(tmp_path / "clip.mp4")
    apply_migrations(example_workspace, "staging")
    service = Service(
        example_workspace, "staging", {"DHASH_FFMPEG": str(tmp_path / "no-ffmpeg-here")}
    )
    try:
        reply = service.post(clip.read_bytes(), headers={"Content-Type": "video/mp4"})
        assert reply.status_code == 503
        assert (
            "ffmpeg not found" in reply.json()["error"]
            and "install ffmpeg" in reply.json()["error"]
        )
        m = service.metrics()
        assert (
            m["dhash_extraction_failures_total"] == 1 and m["dhash_extraction_attempts_total"] == 1
        )
        assert service.health().status_code == 200
        assert " ERROR " in service.log_text() and "ffmpeg_missing" in service.log_text()
    finally:
        service.stop()
