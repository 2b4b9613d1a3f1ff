"""Helpers for the component tests: run the real service as a subprocess, talk HTTP to it.

Imported by the tests/component test modules (a plain module, not a conftest).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "examples" / "dhash-app" / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

MIGRATIONS = ("0001_create_hashes", "0002_add_media_kind")


def migration_module(ws: Path, name: str) -> ModuleType:
    path = ws / "migrations" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def apply_migrations(ws: Path, env: str, names: tuple[str, ...] = MIGRATIONS) -> Path:
    """Run forward steps on data/{env}/dhash.sqlite3 the way the migration runner does."""
    database = ws / "data" / env / "dhash.sqlite3"
    database.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(database)
    try:
        for name in names:
            migration_module(ws, name).forward(conn)
            conn.commit()
    finally:
        conn.close()
    return database


def image_with_hash(value: int) -> bytes:
    """A 9×8 grayscale PNG whose dHash is exactly ``value`` (resizing 9×8 to 9×8 is exact)."""
    pixels = bytearray()
    for row in range(8):
        level = 128
        pixels.append(level)
        for col in range(8):
            bit = (value >> (63 - (row * 8 + col))) & 1
            level += 9 if bit else -9
            pixels.append(level)
    buffer = io.BytesIO()
    Image.frombytes("L", (9, 8), bytes(pixels)).save(buffer, "PNG")
    return buffer.getvalue()


def flip_bits(value: int, count: int) -> int:
    """``value`` with its ``count`` lowest bits flipped: Hamming distance exactly ``count``."""
    return value ^ ((1 << count) - 1)


def encode(image: Image.Image, fmt: str = "PNG", **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


class Service:
    """``python -m dhash_app serve`` on a copy of the example workspace."""

    def __init__(
        self, ws: Path, env: str = "staging", environ: Mapping[str, str] | None = None
    ) -> None:
        self.ws = ws
        self.env = env
        config = json.loads((ws / "config" / env / "dhash.json").read_text(encoding="utf-8"))
        self.port = int(config["component"]["port"])
        self.url = f"http://127.0.0.1:{self.port}"
        env_vars = {k: v for k, v in os.environ.items() if not k.startswith("DHASH_")}
        env_vars.update(environ or {})
        self._output = ws.parent / f"service_{env}_{self.port}.out"
        self._output_handle = self._output.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dhash_app", "serve", "--root", str(ws), "--env", env],
            cwd=ws / "src",
            env=env_vars,
            # Files, not pipes: a chatty service must never block on a full pipe.
            stdout=self._output_handle,
            stderr=subprocess.STDOUT,
            # Windows delivers CTRL_BREAK_EVENT only to a process group of its own.
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
        )
        self._wait_listening()

    def _wait_listening(self, deadline: float = 15.0) -> None:
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise AssertionError(f"service exited {self.process.returncode}: {self.output()}")
            try:
                httpx.get(self.url + "/healthz", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("service did not start listening in time")

    def post(self, data: bytes, query: str = "", **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + "/hash" + query, content=data, timeout=30.0, **kwargs)

    def post_path(self, path: str, **extra: Any) -> httpx.Response:
        return httpx.post(self.url + "/hash", json={"path": path, **extra}, timeout=30.0)

    def health(self) -> httpx.Response:
        return httpx.get(self.url + "/healthz", timeout=5.0)

    def metrics(self) -> dict[str, float]:
        """Every sample as ``name`` or ``name{k="v",...}`` → value."""
        text = httpx.get(self.url + "/metrics", timeout=5.0).text
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return samples

    def log_text(self) -> str:
        return "".join(
            p.read_text(encoding="utf-8")
            for p in sorted((self.ws / "logs").glob(f"dhash_{self.env}_*.log"))
        )

    def output(self) -> str:
        """What the service printed on stdout and stderr."""
        return self._output.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._output_handle.close()
        return self.process.returncode
