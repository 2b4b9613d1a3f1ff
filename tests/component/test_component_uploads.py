"""Every bad upload gets a 4xx with a clear message; the service stays healthy."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest
from component_service import Service, apply_migrations, encode, image_with_hash
from PIL import Image
from workspaces import copy_example_workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    ws = copy_example_workspace(tmp_path_factory.mktemp("uploads") / "ws")
    apply_migrations(ws, "staging")
    media = ws / "media"
    media.mkdir()
    (media / "ok.png").write_bytes(image_with_hash(0x1234))
    outside = ws / "outside.png"
    outside.write_bytes(image_with_hash(0x4321))
    try:
        (media / "escape.png").symlink_to(outside)
        (media / "linked_dir").symlink_to(ws / "config", target_is_directory=True)
    except OSError:  # Windows without the symlink privilege
        pass
    running = Service(ws, "staging")
    yield running
    running.stop()


def _bomb_png() -> bytes:
    """A tiny PNG whose header claims 40000×40000 pixels."""
    data = bytearray(encode(Image.new("L", (1, 1))))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", 40000, 40000)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    return bytes(data)


def _truncated_jpeg() -> bytes:
    photo = Image.radial_gradient("L").convert("RGB").resize((400, 300))
    whole = encode(photo, "JPEG", quality=90)
    return whole[: len(whole) // 2]


def _counters(service: Service) -> tuple[float, float]:
    m = service.metrics()
    return m["dhash_extraction_attempts_total"], m["dhash_extraction_failures_total"]


@pytest.mark.parametrize(
    ("make", "status", "code", "words", "counted"),
    [
        (lambda: b"", 400, "empty", "empty upload", False),
        (_truncated_jpeg, 422, "undecodable", "truncated", True),
        (lambda: os.urandom(4096), 422, "undecodable", "not a decodable image", True),
        (_bomb_png, 413, "too_many_pixels", "decompression bomb", True),
        (lambda: os.urandom(50 * 1024 * 1024), 413, "too_large", "exceeds the limit", False),
    ],
    ids=["zero-bytes", "truncated-jpeg", "garbage", "decompression-bomb", "50MB-garbage"],
)
def test_bad_upload_is_refused_clearly(
    service: Service, make: object, status: int, code: str, words: str, counted: bool
) -> None:
    attempts, failures = _counters(service)
    reply = service.post(make())  # type: ignore[operator]
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["code"] == code
    assert words in body["error"]
    after_attempts, after_failures = _counters(service)
    assert after_failures - failures == (1 if counted else 0)
    assert after_attempts - attempts == (1 if counted else 0)
    assert service.health().status_code == 200
    assert service.post(image_with_hash(0xABCDEF)).status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("../outside.png", 403, "'..' would leave the media root"),
        ("/etc/passwd", 403, "absolute paths are not allowed"),
        ("C:\\Windows\\win.ini", 403, "absolute paths are not allowed"),
        ("escape.png", 403, "symbolic link"),
        ("linked_dir/staging/dhash.json", 403, "symbolic link"),
        ("", 403, "empty"),
        ("nothing-here.png", 404, "not found"),
    ],
)
def test_paths_outside_the_media_root_are_refused(
    service: Service, path: str, status: int, words: str
) -> None:
    if ("escape" in path or "linked" in path) and not (
        service.ws / "media" / path.split("/")[0]
    ).is_symlink():
        pytest.skip("no symlinks on this platform")
    attempts, failures = _counters(service)
    reply = service.post_path(path)
    assert reply.status_code == status, reply.text
    assert words in reply.json()["error"]
    assert _counters(service) == (attempts, failures)
    assert service.health().status_code == 200


def test_malformed_requests(service: Service) -> None:
    url = service.url + "/hash"
    bad_json = httpx.post(url, content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]
    no_path = httpx.post(url, json={"file": "x"})
    assert no_path.status_code == 400 and '"path"' in no_path.json()["error"]
    bad_times = httpx.post(url + "?times=a,b", content=image_with_hash(1))
    assert bad_times.status_code == 400 and "frame times" in bad_times.json()["error"]
    chunked = httpx.post(url, content=iter([image_with_hash(2)]))
    assert chunked.status_code == 411 and "Content-Length" in chunked.json()["error"]
    assert service.post_path("ok.png").status_code == 200
