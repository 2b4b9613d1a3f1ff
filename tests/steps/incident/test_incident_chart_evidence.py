"""Pure parts of incidents: chart, log names, log parsing, monitoring runs, kept sections."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from dhash_gha.core.incident.chart import nice_ceiling, xychart
from dhash_gha.core.incident.evidence import log_kind, monitoring_run, parse_log
from dhash_gha.core.incident.report import PLACEHOLDERS, ROOT_CAUSE, kept_sections


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (9, 10), (1800, 2000), (2600, 3000), (0.04, 0.05), (100, 150)]
)
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == pytest.approx(expected)


def test_xychart_draws_missing_values_at_zero_and_needs_one_label_per_value() -> None:
    chart = xychart('gate "x"', "ms", ["0.5", "1"], [None, 12.5], 10)
    assert "title \"gate 'x'\"" in chart
    assert "line [0, 12.5]" in chart and "line [10, 10]" in chart
    assert 'y-axis "ms" 0 --> 15' in chart
    with pytest.raises(ValueError):
        xychart("t", "ms", ["1"], [1.0, 2.0], 1)


@pytest.mark.parametrize(
    ("name", "env", "kind"),
    [
        ("monitor_production_20260301_120000.log", "production", "monitor"),
        ("smoke_test_production_20260301_120000.log", "production", "smoke_test"),
        ("dhash_production_20260301.log", "production", "dhash"),
        ("monitor_production-eu_20260301_120000.log", "production", None),
        ("monitor_x_prod_20260301_120000.log", "prod", None),
        ("monitor_staging_20260301_120000.log", "production", None),
        ("notes.txt", "production", None),
    ],
)
def test_log_kind_only_matches_this_environment(name: str, env: str, kind: str | None) -> None:
    assert log_kind(name, env) == kind


def test_parse_log_skips_other_lines_and_monitoring_run_takes_the_last_run() -> None:
    text = "\n".join(
        [
            "plain service output",
            "ts=2026-03-01T12:00:00Z level=INFO event=monitor_start run=a env=production",
            "ts=2026-03-01T12:00:30Z level=INFO event=poll run=a poll=1 gate.g=pass value.g=1",
            'ts=2026-03-01T12:01:00Z level=INFO event=broken msg="unterminated',
            "ts=2026-03-01T13:00:00Z level=INFO event=monitor_start run=b env=production",
            "ts=2026-03-01T13:00:30Z level=INFO event=poll run=b poll=1 gate.g=pass value.g=",
            "ts=2026-03-01T13:02:30Z level=INFO event=poll run=b poll=2 gate.g=fail value.g=7",
        ]
    )
    events = parse_log(text, "monitor")
    assert [e.event for e in events] == ["monitor_start", "poll", "monitor_start", "poll", "poll"]
    run = monitoring_run(events)
    assert run is not None and run.run_id == "b"
    assert [p.values["g"] for p in run.polls] == [None, 7.0]
    assert [p.minutes for p in run.polls] == [0.5, 2.5]
    assert run.first_failure() == "g"
    earlier = monitoring_run(events, "a")
    assert earlier is not None and earlier.started == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    assert monitoring_run(events, "zzz") is None


def test_kept_sections_ignores_placeholders() -> None:
    fresh = f"## {ROOT_CAUSE}\n\n{PLACEHOLDERS[ROOT_CAUSE]}\n\n## Next\n"
    assert kept_sections(fresh) == {}
    filled = f"## {ROOT_CAUSE}\n\nDisk full.\nSecond line.\n\n## Preventive measures\n\nAlert.\n"
    assert kept_sections(filled) == {
        ROOT_CAUSE: "Disk full.\nSecond line.",
        "Preventive measures": "Alert.",
    }
