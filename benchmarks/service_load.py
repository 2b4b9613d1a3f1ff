"""The dhash service under the load generator: requests/second and P95 latency on this machine.

Usage: python benchmarks/service_load.py [--rate R] [--duration S] [--workers N]

Copies examples/dhash-app to a temporary folder, applies its migrations, starts
``python -m dhash_app serve`` on a free port, drives it with ``dhash_app.load`` (the same mix
of known, near-duplicate and new images an operator would use), then reads the service's own
hash-time histogram from /metrics. Everything it starts is stopped before it exits.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dhash-app"
sys.path.insert(0, str(EXAMPLE / "src"))

from dhash_app.load import LoadPlan, parse_mix, run_load  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def migrate(ws: Path, env: str) -> None:
    database = ws / "data" / env / "dhash.sqlite3"
    database.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(database)
    for path in sorted((ws / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.forward(conn)
        conn.commit()
    conn.close()


def histogram_quantile(metrics_text: str, name: str, q: float) -> float | None:
    """Upper bound of the bucket holding the q-quantile (what a gate reading buckets sees)."""
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == f"{name}_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None
    target = q * buckets[-1][1]
    return next(le for le, count in buckets if count >= target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--rate", type=float, default=200.0, help="requests/second offered (default 200)"
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds (default 15)")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--mix", default="known=0.5,near=0.3,new=0.2")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dhash-bench-") as folder:
        ws = Path(folder) / "ws"
        shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns("data", "logs", "__pycache__"))
        migrate(ws, "staging")
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DHASH_FAULT_")}
        server = subprocess.Popen(
            [sys.executable, "-m", "dhash_app", "serve", "--root", str(ws), "--env", "staging", "--port", "0"],
            cwd=ws / "src", env=environ, stdout=subprocess.PIPE, text=True,
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
        )  # fmt: skip
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip().rsplit(" ", 1)[-1]
            plan = LoadPlan(url=url, rate=args.rate, duration=args.duration,
                            mix=parse_mix(args.mix), workers=args.workers)  # fmt: skip
            report = run_load(plan).to_dict()
            with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
                metrics_text = response.read().decode()
        finally:
            server.send_signal(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    p95_hash = histogram_quantile(metrics_text, "dhash_hash_duration_seconds", 0.95)
    print(json.dumps(report, indent=2, sort_keys=True))
    print(
        f"\noffered {args.rate:g} req/s for {args.duration:g} s with {args.workers} workers:"
        f" achieved {report['requests_per_second']} req/s, errors {report['errors']},"
        f" client P95 {report['latency_ms']['p95']} ms, P50 {report['latency_ms']['p50']} ms;"
        f" server hash-time P95 bucket <= {p95_hash * 1000 if p95_hash else 'n/a'} ms"
    )
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
