"""The component's command line: offline hashing and start-up refusals."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import imagehash
from component_service import SRC, encode, image_with_hash
from PIL import Image


def _run(*argv: str, cwd: Path = SRC) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dhash_app", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_hash_prints_imagehash_compatible_hex(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(encode(Image.radial_gradient("L").convert("RGB"), "JPEG"))
    crafted = tmp_path / "crafted.png"
    crafted.write_bytes(image_with_hash(0xDEADBEEF00C0FFEE))
    done = _run("hash", str(photo), str(crafted))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{imagehash.dhash(Image.open(photo))}  {photo}",
        f"deadbeef00c0ffee  {crafted}",
    ]


def test_hash_of_a_bad_file_exits_2_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    done = _run("hash", str(bad))
    assert done.returncode == 2
    assert "bad.png" in done.stderr and "not a decodable image" in done.stderr


def test_serve_refuses_a_port_in_use(example_workspace: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _run(
            "serve", "--root", str(example_workspace), "--env", "staging", "--port", str(port)
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_serve_refuses_an_unknown_environment(example_workspace: Path) -> None:
    done = _run("serve", "--root", str(example_workspace), "--env", "qa")
    assert done.returncode == 2
    assert "config/qa/dhash.json" in done.stderr
