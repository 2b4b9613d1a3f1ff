"""Start-up cost of ``dhash-gha --help`` against ``python -c pass``, as a ratio in one run.

Usage: python benchmarks/cli_startup.py [--runs N]
The console script must be on PATH (``pip install .``); otherwise ``python -m dhash_gha`` is timed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def median_seconds(command: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    script = shutil.which("dhash-gha")
    cli = [script, "--help"] if script else [sys.executable, "-m", "dhash_gha", "--help"]
    baseline = median_seconds([sys.executable, "-c", "pass"], args.runs)
    help_time = median_seconds(cli, args.runs)
    print(f"python -c pass      : {baseline * 1000:7.1f} ms (median of {args.runs})")
    print(
        f"{' '.join(cli[-2:]) if script else 'python -m dhash_gha --help'}: {help_time * 1000:7.1f} ms"
    )
    print(f"ratio               : {help_time / baseline:7.2f}x (aim: < 3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
