"""Rehearsal benchmark: how fast the monitor catches a bad release, and how fast it is healthy again.

Runs ``dhash-gha rehearse`` (the library function) once per fault, each on its
own temporary copy of the example workspace with real processes:

    extraction  extraction_failure_ratio=0.5   → gate extraction_failure_rate
    latency     hash_latency_ms=3000           → gate p95_hash_time
    queue       queue_flood=1500               → gate low_confidence_queue

and prints, as a Markdown table: the gate that fired and its value, the
detection latency from the bad release going live to the gate firing (in polls,
in scaled monitoring seconds and in real seconds), the time from the trip to
healthy again (rollback done, 3 consecutive OK health checks), and the whole
rehearsal's wall time. The monitoring schedule is compressed by ``--time-scale``
(deploys, rollbacks and smoke tests run in real time).

    python benchmarks/rehearsal.py                 # all three faults at x60
    python benchmarks/rehearsal.py --faults extraction --time-scale 120
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from typing import Any

FAULTS: dict[str, dict[str, Any]] = {
    "extraction": {"extraction_failure_ratio": 0.5},
    "latency": {"hash_latency_ms": 3000},
    "queue": {"queue_flood": 1500},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument(
        "--faults", default=",".join(FAULTS), help="comma-separated: " + ", ".join(FAULTS)
    )
    args = parser.parse_args()
    from dhash_gha.adapters.reporter import Reporter
    from dhash_gha.compose.rehearse import rehearse

    rows = []
    for name in [n.strip() for n in args.faults.split(",") if n.strip()]:
        if name not in FAULTS:
            parser.error(f"unknown fault {name!r}; choose from {', '.join(FAULTS)}")
        output = io.StringIO()
        reporter = Reporter(dict(os.environ), stream=output, err_stream=output)
        began = time.perf_counter()
        result = rehearse(
            environ=dict(os.environ),
            reporter=reporter,
            time_scale=args.time_scale,
            bad_faults=FAULTS[name],
        )
        wall = time.perf_counter() - began
        if not result.ok:
            print(output.getvalue(), file=sys.stderr)
        rows.append((name, result, wall))
        print(
            f"{name}: {'ok' if result.ok else 'FAILED: ' + str(result.problem)} ({wall:.1f} s)",
            file=sys.stderr,
        )

    print(
        f"\n| fault | gate fired | value | detection polls | detection (scaled) | detection (real) "
        f"| trip → healthy | rehearsal wall time |  (time scale x{args.time_scale:g})"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, result, wall in rows:
        value = "-" if result.value is None else f"{result.value:.4g} {result.unit}"
        print(
            f"| {name} | {result.gate or '-'} | {value} | {result.detection_polls or '-'} "
            f"| {_s(result.detection_scaled_seconds)} | {_s(result.detection_seconds)} "
            f"| {_s(result.healthy_again_seconds)} | {wall:.1f} s |"
        )
    return 0 if all(result.ok for _, result, _ in rows) else 1


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


if __name__ == "__main__":
    sys.exit(main())
