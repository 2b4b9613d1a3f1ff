"""The monitor's pure pieces: decisions, progress rendering, state round trip, poll lines."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from dhash_gha.adapters.monitoring.poll_log import MonitorLog, format_value, poll_fields
from dhash_gha.adapters.monitoring.state import MonitorState, load_state, save_state
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.core.clock import FakeClock
from dhash_gha.core.gates.decision import decide
from dhash_gha.core.gates.engine import GateVerdict
from dhash_gha.core.gates.sample import Sample, decode_sample, parse_logfmt
from dhash_gha.steps.monitor.loop import next_due
from dhash_gha.steps.monitor.progress import Progress, ProgressView, plain_line, render


def verdict(
    name: str, status: str, action: str = "rollback", value: float | None = 3.0
) -> GateVerdict:
    return GateVerdict(name=name, status=status, value=value, threshold=2.0, unit="checks",  # type: ignore[arg-type]
                       action=action, reason=f"{name} reason", samples=3)  # fmt: skip


def test_rollback_gates_roll_back_every_poll_they_fail() -> None:
    decision = decide([verdict("h", "fail")], {"h"}, no_rollback=False)
    assert [v.name for v in decision.rollback] == ["h"] and decision.rolls_back


def test_alerts_and_dry_runs_fire_on_the_transition_into_fail_only() -> None:
    verdicts = [
        verdict("a", "fail", "alert"),
        verdict("d", "fail", "dry-run"),
        verdict("p", "pass"),
    ]
    first = decide(verdicts, set(), no_rollback=False)
    assert [v.name for v in first.notify] == ["a"]
    assert [v.name for v in first.would_roll_back] == ["d"]
    assert first.failing == ("a", "d") and not first.rolls_back
    again = decide(verdicts, set(first.failing), no_rollback=False)
    assert not again.notify and not again.would_roll_back
    recovered = decide([verdict("a", "pass", "alert")], set(first.failing), no_rollback=False)
    assert recovered.failing == ()


def test_no_rollback_turns_rollback_gates_into_alerts() -> None:
    decision = decide([verdict("h", "fail"), verdict("i", "inconclusive")], set(), no_rollback=True)
    assert not decision.rolls_back
    assert [v.name for v in decision.notify] == ["h"]


def test_next_due_resumes_after_the_last_poll() -> None:
    times = [0.0, 30.0, 60.0, 180.0]
    assert next_due(times, None) == 0.0
    assert next_due(times, 0.0) == 30.0
    assert next_due(times, 45.0) == 60.0
    assert next_due(times, 180.0) is None


def view(**overrides: Any) -> ProgressView:
    base: dict[str, Any] = dict(
        env="production", run_id="r1", poll=5, planned_polls=39, elapsed=125.0, duration=3600.0,
        phase="phase 1/2 every 30 s", next_poll_in=25.0, poll_at=120.0,
        verdicts=(verdict("health_failures", "fail"), verdict("queue", "inconclusive", value=None)),
        errors={"metrics": "timed out after 2s"},
    )  # fmt: skip
    base.update(overrides)
    return ProgressView(**base)


def test_render_shows_phase_elapsed_next_poll_and_each_gate_against_its_threshold() -> None:
    lines = render(view())
    assert lines[0] == (
        "monitor production run r1: poll 5/39, phase 1/2 every 30 s, elapsed 02:05 of 60:00, "
        "next poll in 00:25"
    )
    assert lines[1] == "  [FAIL] health_failures FAIL 3 checks (limit > 2 checks)"
    assert lines[2] == "  [ ?  ] queue INCONCLUSIVE no data (limit > 2 checks)"
    assert lines[3] == "  no data from metrics: timed out after 2s"
    assert plain_line(view()).startswith("[monitor production] poll 5/39 at 02:00 (phase 1/2")


def test_a_terminal_is_redrawn_in_place_and_a_log_gets_plain_lines() -> None:
    tty = io.StringIO()
    progress = Progress(Reporter({}, stream=tty), redraw=True)
    progress.polled(view())
    progress.waiting(view(next_poll_in=10.0))
    text = tty.getvalue()
    assert text.count("\x1b[4F\x1b[J") == 1  # the second draw replaces the 4-line block
    assert "next poll in 00:10" in text
    plain = io.StringIO()
    progress = Progress(Reporter({}, stream=plain), redraw=False)
    progress.polled(view())
    progress.waiting(view(next_poll_in=10.0))
    assert plain.getvalue().count("\n") == 1 and "\x1b" not in plain.getvalue()


def test_on_github_actions_progress_is_never_redrawn() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert Progress(Reporter({}, stream=Tty())).redraw is True
    assert Progress(Reporter({"GITHUB_ACTIONS": "true"}, stream=Tty())).redraw is False


def test_state_round_trips_and_is_written_atomically(tmp_path: Path) -> None:
    state = MonitorState(
        run_id="r1", env="production", started_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        gates_sha256="ab", duration_seconds=3600, log_file="logs/monitor_production_x.log",
        release_id="rel", samples=[Sample(0.0, {"health_ok": 1.0}), Sample(30.0, {}, {"health": "x"})],
        baseline=Sample(0.0, {"queue_items": 5.0}), failing=["h"],
        trips=[{"gate": "h", "poll": 2}],
    )  # fmt: skip
    path = tmp_path / "state" / "monitor_state.json"
    save_state(path, state)
    assert [p.name for p in path.parent.iterdir()] == ["monitor_state.json"]
    loaded = load_state(path)
    assert loaded == state


@pytest.mark.parametrize(
    "text",
    ["{", "[]", '{"version": 1}', '{"version": 99, "run_id": "x"}',
     '{"version": 1, "run_id": "r", "env": "p", "started_at": "2026-01-01T00:00:00", '
     '"gates_sha256": "a", "duration_seconds": 1, "log_file": "l"}'],
)  # fmt: skip
def test_an_unreadable_state_is_a_value_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        load_state(path)


def test_poll_lines_decode_back_to_the_sample(tmp_path: Path) -> None:
    sample = Sample(
        120.0,
        {"health_ok": 0.0, "dhash_hash_duration_seconds_bucket:+Inf": 12.0, "queue_items": 3.0},
        {"health": 'health check failed: HTTP 503 (fault "x")'},
    )
    log = MonitorLog(tmp_path / "m.log", Reporter({}), FakeClock())
    log.write(
        poll_fields("r1", 5, sample, [verdict("h", "fail"), verdict("q", "pass", value=None)], 95.5)
    )
    line = (tmp_path / "m.log").read_text(encoding="utf-8")
    assert "hash_time_p95_ms=95.5" in line
    fields = parse_logfmt(line.strip())
    assert fields["event"] == "poll" and fields["poll"] == "5"
    assert fields["gate.h"] == "fail" and fields["value.h"] == "3" and fields["value.q"] == ""
    assert decode_sample(fields) == sample


def test_values_are_formatted_plainly() -> None:
    assert format_value(None) == ""
    assert format_value(float("nan")) == ""
    assert format_value(2000.0) == "2000"
    assert format_value(1.23456) == "1.235"
    assert format_value(float("inf")) == "inf"
