"""Load generator: drive a local service at a fixed rate for a fixed time.

The traffic mixes *known* images (sent once before the run so the library
holds them), *near* duplicates of them (a little noise and a brightness shift)
and *new* random images. Bounded: at most rate × duration requests, then it
stops; only services on this machine (127.0.0.1 / localhost) are accepted.
"""

from __future__ import annotations

import io
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from dhash_app.http_client import post_bytes

KINDS = ("known", "near", "new")
MAX_RATE = 500.0
MAX_DURATION = 3600.0
KNOWN_POOL = 16
IMAGE_SIZE = (48, 36)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


class LoadError(Exception):
    """Bad load parameters (the message names the fix)."""


def parse_mix(text: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in KINDS:
            raise LoadError(f"unknown image kind {name!r} in --mix; use known=…,near=…,new=…")
        try:
            mix[name] = float(value)
        except ValueError:
            raise LoadError(f"--mix share for {name!r} must be a number, got {value!r}") from None
    if any(v < 0 for v in mix.values()) or sum(mix.values()) <= 0:
        raise LoadError(f"--mix shares must be >= 0 and not all zero, got {text!r}")
    return mix


@dataclass(frozen=True)
class LoadPlan:
    url: str
    rate: float
    duration: float
    mix: dict[str, float]
    seed: int = 1
    workers: int = 8
    timeout: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS:
            raise LoadError(
                f"--url must be http://127.0.0.1:PORT (a service on this machine), got {self.url!r}"
            )
        if not 0 < self.rate <= MAX_RATE:
            raise LoadError(
                f"--rate must be within (0, {MAX_RATE:g}] requests/second, got {self.rate:g}"
            )
        if not 0 < self.duration <= MAX_DURATION:
            raise LoadError(
                f"--duration must be within (0, {MAX_DURATION:g}] seconds, got {self.duration:g}"
            )
        if not 0 < self.timeout <= 300:
            raise LoadError(f"--timeout must be within (0, 300] seconds, got {self.timeout:g}")
        if not 1 <= self.workers <= 64:
            raise LoadError(f"--workers must be within 1..64, got {self.workers}")

    @property
    def total(self) -> int:
        return max(1, int(self.rate * self.duration))


@dataclass
class LoadReport:
    planned: int
    sent: int = 0
    errors: int = 0
    skipped: int = 0  # not sent: stopped early, or the service was too slow to keep the rate
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    by_kind: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    by_result: Counter[str] = field(default_factory=Counter)

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))  # nearest rank
        return round(ordered[index], 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "sent": self.sent,
            "errors": self.errors,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.sent / self.seconds, 2) if self.seconds else 0.0,
            "latency_ms": {"p50": self.percentile(0.5), "p95": self.percentile(0.95),
                           "max": round(max(self.latencies_ms), 2) if self.latencies_ms else None},
            "by_kind": dict(self.by_kind),
            "by_status": dict(self.by_status),
            "by_result": dict(self.by_result),
        }  # fmt: skip


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _noise(rng: random.Random) -> Image.Image:
    raw = bytes(rng.randrange(256) for _ in range(IMAGE_SIZE[0] * IMAGE_SIZE[1] * 3))
    return Image.frombytes("RGB", IMAGE_SIZE, raw)


def _near(image: Image.Image, rng: random.Random) -> Image.Image:
    shift = rng.randint(-6, 6)
    raw = bytes(max(0, min(255, b + shift + rng.randint(-3, 3))) for b in image.tobytes())
    return Image.frombytes("RGB", IMAGE_SIZE, raw)


class ImageSource:
    """Deterministic images for each kind (same seed, same traffic)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.known = [_noise(self._rng) for _ in range(KNOWN_POOL)]
        self.known_png = [_png(image) for image in self.known]

    def make(self, kind: str) -> bytes:
        with self._lock:
            if kind == "known":
                return self._rng.choice(self.known_png)
            if kind == "near":
                return _png(_near(self._rng.choice(self.known), self._rng))
            return _png(_noise(self._rng))


def run_load(
    plan: LoadPlan,
    *,
    clock: Callable[[], float] = time.monotonic,
    stop: threading.Event | None = None,
) -> LoadReport:
    """Send the plan's requests on schedule; returns when all are done, skipped or stopped.

    A request that cannot start before ``duration + timeout`` (the service is slower than the
    rate) is skipped, not queued forever, so a run never outlasts its bound by much. Setting
    ``stop`` (SIGTERM in the CLI) stops sending; in-flight requests finish.
    """
    stop = stop or threading.Event()
    source = ImageSource(plan.seed)
    url = plan.url.rstrip("/") + "/hash"
    if plan.mix.get("known", 0) > 0 or plan.mix.get("near", 0) > 0:
        for png in source.known_png:  # make the "known" images known
            if stop.is_set():
                break
            post_bytes(url, png, timeout=plan.timeout)
    kinds = list(plan.mix)
    weights = [plan.mix[k] for k in kinds]
    picker = random.Random(plan.seed + 1)
    report = LoadReport(planned=plan.total)
    lock = threading.Lock()
    began = clock()
    give_up_at = began + plan.duration + plan.timeout

    def one(kind: str) -> None:
        if stop.is_set() or clock() > give_up_at:
            with lock:
                report.skipped += 1
            return
        data = source.make(kind)
        started = time.perf_counter()
        reply = post_bytes(url, data, timeout=plan.timeout)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            report.sent += 1
            report.by_kind[kind] += 1
            report.by_status[str(reply.status) if reply.status else "no_answer"] += 1
            if reply.status == 200:
                report.latencies_ms.append(elapsed)
                report.by_result[str((reply.body or {}).get("result", "?"))] += 1
            else:
                report.errors += 1

    with ThreadPoolExecutor(max_workers=plan.workers, thread_name_prefix="dhash-load") as pool:
        for n in range(plan.total):
            wait = began + n / plan.rate - clock()
            if (wait > 0 and stop.wait(wait)) or stop.is_set():
                report.skipped += plan.total - n
                break
            pool.submit(one, picker.choices(kinds, weights)[0])
    report.seconds = clock() - began
    return report
