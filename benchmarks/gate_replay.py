"""Gate replay over 30 days of 30-second polls (about 86 400 polls × 4 gates).

    python benchmarks/gate_replay.py [--days N] [--check-polls N]

Generates a synthetic monitor log (healthy service with restarts — counter
resets — a slow period and a queue spike), then times:

1. the incremental evaluator alone over the generated samples (4 production gates);
2. the whole ``gates replay`` pipeline from log text: parsing, decoding, replay under
   the current and a candidate config (the candidate doubles the work);
3. the naive way — ``evaluate_gates`` re-scanning every window at every poll — on the
   first ``--check-polls`` polls, extrapolated to the whole series, and checked to give
   the same verdicts as the incremental evaluator on those polls.

Nothing is written to disk; the log lives in memory.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import random
import time
from pathlib import Path
from typing import Any

from dhash_gha.adapters.reporter import logfmt_line
from dhash_gha.core.gates.engine import evaluate_gates
from dhash_gha.core.gates.incremental import IncrementalEvaluator
from dhash_gha.core.gates.replay import ParsedLogs, replay
from dhash_gha.core.gates.sample import Sample, bucket_key, encode_sample
from dhash_gha.core.gates.spec import load_gate_specs

ROOT = Path(__file__).resolve().parents[1]
HIST = "dhash_hash_duration_seconds"
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)


def generate(polls: int, seed: int = 7) -> list[Sample]:
    rng = random.Random(seed)
    attempts = failures = 0.0
    buckets = dict.fromkeys(BOUNDS, 0.0)
    samples = []
    for i in range(polls):
        if rng.random() < 0.0005:  # the component restarted: every counter starts again
            attempts = failures = 0.0
            buckets = dict.fromkeys(BOUNDS, 0.0)
        slow = (i // 2880) % 7 == 3 and (i % 2880) < 120  # one slow hour a week
        requests = rng.randint(20, 60)
        attempts += requests
        failures += sum(1 for _ in range(requests) if rng.random() < 0.02)
        for _ in range(requests):
            latency = rng.expovariate(1 / (2.4 if slow else 0.08))
            for bound in BOUNDS:
                if latency <= bound:
                    buckets[bound] += 1
        values = {
            "health_ok": 0.0 if rng.random() < 0.01 else 1.0,
            "queue_items": float(rng.randint(0, 400) + (900 if 5000 <= i % 10000 < 5005 else 0)),
            "dhash_extraction_attempts_total": attempts,
            "dhash_extraction_failures_total": failures,
        }
        values.update({bucket_key(HIST, b): c for b, c in buckets.items()})
        samples.append(Sample(at=1_700_000_000.0 + 30.0 * i, values=values))
    return samples


def log_lines(samples: list[Sample], run: str = "bench") -> list[str]:
    lines = [
        logfmt_line(
            {
                "ts": "t",
                "level": "INFO",
                "event": "monitor_start",
                "run": run,
                "env": "production",
                "gates_sha256": "x",
            }
        )
    ]
    for n, sample in enumerate(samples, start=1):
        fields: dict[str, Any] = {
            "ts": "t",
            "level": "INFO",
            "event": "poll",
            "run": run,
            "poll": n,
        }
        fields.update(encode_sample(sample))
        lines.append(logfmt_line(fields))
    return lines


def sections() -> tuple[dict[str, Any], dict[str, Any]]:
    data = json.loads((ROOT / "examples/dhash-app/quality-gates-config.json").read_text("utf-8"))
    current = data["environments"]["production"]
    candidate = json.loads(json.dumps(current))
    for gate in candidate["gates"]:
        if gate["name"] == "p95_hash_time":
            gate["threshold"] = 3000
    return current, candidate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--check-polls", type=int, default=3000)
    args = parser.parse_args()
    polls = int(args.days * 86400 / 30)
    current, candidate = sections()
    gates = load_gate_specs(current)
    started = time.perf_counter()
    samples = generate(polls)
    print(f"generated {polls} polls × {len(gates)} gates in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    evaluator = IncrementalEvaluator(gates)
    fails = 0
    for sample in samples:
        evaluator.push(sample)
        fails += sum(1 for m in evaluator.measure(sample.at) if m.value is not None)
    incremental = time.perf_counter() - started
    print(
        f"incremental evaluator:       {incremental:6.2f} s  ({incremental / polls * 1e6:.1f} µs/poll)"
    )

    lines = log_lines(samples)
    started = time.perf_counter()
    parsed = ParsedLogs()
    parsed.add_lines(lines, "bench.log")
    parse_time = time.perf_counter() - started
    report = replay(
        parsed, "production", gates, load_gate_specs(candidate), candidate_label="candidate"
    )
    pipeline = time.perf_counter() - started
    print(
        f"replay from log text:        {pipeline:6.2f} s  (parse {parse_time:.2f} s, "
        f"2 configs; {len(lines)} lines)"
    )
    (run,) = report.runs
    fired = ", ".join(f"{f.gate}@poll {f.poll}" for f in run.current.firings)
    print(f"  current fires: {fired or 'nothing'}; change under candidate: {run.change}")

    # The naive way: at every poll, evaluate_gates re-scans each window from scratch (it is
    # handed only the samples of the widest window, so this is linear, not quadratic).
    check = min(args.check_polls, polls)
    widest = max(gate.window_seconds for gate in gates)
    times = [sample.at for sample in samples]
    evaluator = IncrementalEvaluator(gates)
    naive_time = 0.0
    for i in range(check):
        now = times[i]
        started = time.perf_counter()
        low = bisect.bisect_right(times, now - widest, 0, i + 1)
        naive = evaluate_gates(gates, samples[low : i + 1], now=now)
        naive_time += time.perf_counter() - started
        evaluator.push(samples[i])
        if evaluator.evaluate(now) != naive:
            raise SystemExit(f"MISMATCH at poll {i + 1}")
    extrapolated = naive_time * polls / check
    print(
        f"windows from scratch:        {naive_time:6.2f} s for {check} polls "
        f"(≈ {extrapolated:.0f} s extrapolated to {polls}); verdicts identical"
    )
    print(f"ratio from-scratch / incremental: {extrapolated / incremental:.1f}×")


if __name__ == "__main__":
    main()
