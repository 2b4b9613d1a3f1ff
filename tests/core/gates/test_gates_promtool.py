"""Our histogram_quantile against Prometheus's own, through ``promtool test rules``.

Each case is a set of cumulative buckets given to Prometheus as instant series;
``histogram_quantile`` over them must give exactly what ``bucket_quantile``
computes. Skipped where promtool is not installed (Debian: package ``prometheus``).
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from dhash_gha.core.gates.quantile import bucket_quantile

PROMTOOL = shutil.which("promtool")
BOUNDS = [-0.5, 0.0, 0.005, 0.01, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]
QUANTILES = [0.01, 0.5, 0.9, 0.95, 0.99]


def cases() -> list[tuple[float, list[tuple[float, float]]]]:
    rng = random.Random(20261127)
    out: list[tuple[float, list[tuple[float, float]]]] = [
        (0.95, [(0.1, 50), (0.5, 90), (1.0, 100), (math.inf, 100)]),
        (0.99, [(0.5, 10), (2.5, 50), (math.inf, 100)]),  # rank in +Inf
        (0.5, [(-0.5, 100), (math.inf, 100)]),  # lowest bound <= 0
        (0.5, [(0.1, 60), (0.5, 40), (1.0, 100), (math.inf, 100)]),  # not monotonic
    ]
    for _ in range(60):
        bounds = sorted(rng.sample(BOUNDS, rng.randint(1, 6)))
        counts, running = [], 0
        for _bound in bounds:
            running += rng.choice([0, 0, 1, 3, 10, 50])
            counts.append(running if rng.random() > 0.1 else max(0, running - 5))
        total = running + rng.choice([0, 0, 2, 20])
        out.append((rng.choice(QUANTILES), [*zip(bounds, counts, strict=True), (math.inf, total)]))
    return out


def le_label(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(bound)


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")
def test_bucket_quantile_equals_prometheus(tmp_path: Path) -> None:
    series: list[str] = []
    tests: list[str] = []
    compared = 0
    for index, (q, buckets) in enumerate(cases()):
        expected = bucket_quantile(q, buckets)
        if math.isnan(expected):
            continue  # promtool cannot state an expected NaN; NaN cases are tested elsewhere
        compared += 1
        for bound, count in buckets:
            series.append(
                f'      - series: \'h_bucket{{case="{index}",le="{le_label(bound)}"}}\'\n'
                f"        values: '{count:g}'"
            )
        tests.append(
            f'      - expr: histogram_quantile({q!r}, h_bucket{{case="{index}"}})\n'
            f"        eval_time: 0m\n"
            f"        exp_samples:\n"
            f"          - labels: '{{case=\"{index}\"}}'\n"
            f"            value: {expected!r}"
        )
    spec = tmp_path / "quantiles_test.yml"
    spec.write_text(
        "tests:\n  - interval: 1m\n    input_series:\n"
        + "\n".join(series)
        + "\n    promql_expr_test:\n"
        + "\n".join(tests)
        + "\n",
        encoding="utf-8",
    )
    assert compared >= 40
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "test", "rules", str(spec)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
