"""Gate replay: a log with a known trip, under the current and a candidate config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhash_gha.adapters.reporter import logfmt_line
from dhash_gha.core.gates.engine import evaluate_gates
from dhash_gha.core.gates.replay import ParsedLogs, replay, replay_run
from dhash_gha.core.gates.sample import Sample, encode_sample, parse_logfmt, parse_logfmt_scanning
from dhash_gha.core.gates.spec import load_gate_specs

CliRunner = Callable[..., tuple[int, str, str]]


def poll_line(run: str, poll: int, sample: Sample, statuses: dict[str, str] | None = None) -> str:
    fields: dict[str, Any] = {
        "ts": f"2026-01-01T00:{poll:02d}:00Z",
        "level": "INFO",
        "event": "poll",
        "run": run,
        "poll": poll,
    }
    fields.update(encode_sample(sample))
    for name, status in (statuses or {}).items():
        fields[f"gate.{name}"] = status
    return logfmt_line(fields)


def queue_run(
    run: str, queue: list[float], *, start: float = 1000.0, env: str = "production"
) -> list[str]:
    """A monitoring run polled every 30 s, healthy except for the queue lengths given."""
    lines = [
        logfmt_line(
            {
                "ts": "2026-01-01T00:00:00Z",
                "level": "INFO",
                "event": "monitor_start",
                "run": run,
                "env": env,
                "gates_sha256": "abc",
            }
        )
    ]
    for i, items in enumerate(queue):
        sample = Sample(at=start + 30 * i, values={"health_ok": 1.0, "queue_items": items})
        lines.append(poll_line(run, i + 1, sample))
    lines.append(
        logfmt_line(
            {
                "ts": "2026-01-01T01:00:00Z",
                "level": "INFO",
                "event": "verdict",
                "run": run,
                "verdict": "passed",
            }
        )
    )
    return lines


def gates_section(queue_threshold: float = 1000, action: str = "rollback") -> dict[str, Any]:
    return {
        "schedule": {
            "duration_minutes": 60,
            "phases": [{"until_minute": 60, "interval_seconds": 30}],
        },
        "gates": [
            {
                "name": "health_failures",
                "kind": "consecutive_failures",
                "source": "health",
                "threshold": 2,
                "unit": "checks",
                "window_seconds": 300,
                "action": "rollback",
                "min_samples": 1,
                "no_data": "breach",
            },
            {
                "name": "low_confidence_queue",
                "kind": "gauge",
                "source": "queue_files",
                "threshold": queue_threshold,
                "unit": "items",
                "window_seconds": 0,
                "action": action,
                "min_samples": 1,
                "no_data": "inconclusive",
            },
        ],
    }


def test_known_trip_is_found_at_its_poll() -> None:
    parsed = ParsedLogs()
    parsed.add_lines(queue_run("r1", [10, 500, 1001, 1200, 900]), "log")
    (run,) = parsed.finished_runs("production")
    outcome = replay_run(run, load_gate_specs(gates_section()))
    assert outcome.rollback is not None
    assert (outcome.rollback.gate, outcome.rollback.poll, outcome.rollback.elapsed) == (
        "low_confidence_queue",
        3,
        60.0,
    )
    assert outcome.failed_polls == {"low_confidence_queue": 2}
    assert "1001 items > 1000 items" in outcome.rollback.reason


def test_candidate_avoids_and_adds_rollbacks() -> None:
    parsed = ParsedLogs()
    parsed.add_lines(queue_run("tripped", [10, 1200, 10]), "a.log")
    parsed.add_lines(queue_run("quiet", [10, 950, 10], start=9000), "b.log")
    report = replay(
        parsed,
        "production",
        load_gate_specs(gates_section(1000)),
        load_gate_specs(gates_section(1500)),
        candidate_label="c.json",
    )
    changes = {r.run.run_id: r.change for r in report.runs}
    assert changes == {"tripped": "rollback avoided", "quiet": "no rollback under either"}
    stricter = replay(
        parsed,
        "production",
        load_gate_specs(gates_section(1000)),
        load_gate_specs(gates_section(900)),
        candidate_label="c.json",
    )
    assert {r.run.run_id: r.change for r in stricter.runs} == {
        "tripped": "rollback at the same poll",
        "quiet": "rollback added",
    }
    assert stricter.rollbacks("current") == 1 and stricter.rollbacks("candidate") == 2


def test_alert_action_fires_without_rollback() -> None:
    parsed = ParsedLogs()
    parsed.add_lines(queue_run("r", [10, 1200]), "log")
    (run,) = parsed.finished_runs()
    outcome = replay_run(run, load_gate_specs(gates_section(action="alert")))
    assert [f.gate for f in outcome.firings] == ["low_confidence_queue"]
    assert outcome.rollback is None


def test_replay_matches_engine_at_every_poll() -> None:
    parsed = ParsedLogs()
    queue = [float((i * 37) % 1300) for i in range(40)]
    parsed.add_lines(queue_run("r", queue), "log")
    (run,) = parsed.finished_runs()
    gates = load_gate_specs(gates_section())
    outcome = replay_run(run, gates)
    samples = [p.sample for p in run.polls]
    failing = [
        i
        for i, p in enumerate(run.polls)
        if evaluate_gates(gates, samples[: i + 1], now=p.sample.at)[1].status == "fail"
    ]
    assert outcome.failed_polls["low_confidence_queue"] == len(failing)
    assert outcome.firings[0].poll == failing[0] + 1


def test_garbage_lines_are_counted_not_fatal() -> None:
    lines = queue_run("r", [10, 1200])
    lines[1:1] = [
        'ts=x event=poll run=r poll=9 at=12 m.queue_items="unterminated',
        "ts=x event=poll run=r poll=9 at=not-a-number",
        "ts=x event=poll run=r poll=9 at=1 m.queue_items=lots",
        "event=poll at=1",  # no run
        "\x00\x01 binary junk \ufffd",
        "ts=x event=poll run=r poll=abc at=5",
        "",
    ]
    parsed = ParsedLogs()
    parsed.add_lines(lines, "damaged.log")
    assert parsed.skipped == 6
    assert any("damaged.log:2" in example for example in parsed.examples)
    (run,) = parsed.finished_runs()
    assert len(run.polls) == 2
    assert replay_run(run, load_gate_specs(gates_section())).rollback is not None


def test_runs_of_other_environments_are_left_out() -> None:
    parsed = ParsedLogs()
    parsed.add_lines(queue_run("s", [10], env="staging"), "log")
    parsed.add_lines(queue_run("p", [10], env="production", start=5000), "log")
    assert [r.run_id for r in parsed.finished_runs("production")] == ["p"]


def test_resumed_run_across_files_is_one_run_without_duplicates() -> None:
    lines = queue_run("r", [10, 20, 30, 40])
    parsed = ParsedLogs()
    parsed.add_lines(lines[:4], "first.log")
    parsed.add_lines(lines[3:], "second.log")  # poll 3 logged again after a restart
    (run,) = parsed.finished_runs()
    assert [p.poll for p in run.polls] == [1, 2, 3, 4]
    assert run.sources == ["first.log", "second.log"]


def test_recorded_verdicts_that_disagree_are_counted() -> None:
    parsed = ParsedLogs()
    sample = Sample(at=0, values={"health_ok": 1.0, "queue_items": 5.0})
    parsed.add_lines([poll_line("r", 1, sample, {"low_confidence_queue": "fail"})], "log")
    (run,) = parsed.finished_runs()
    assert replay_run(run, load_gate_specs(gates_section())).recorded_mismatches == 1


def test_baseline_line_is_used_for_relative_gates() -> None:
    section = gates_section()
    section["gates"][1]["baseline"] = "relative"
    baseline = Sample(at=990, values={"queue_items": 1500.0})
    lines = queue_run("r", [1400, 1450])
    lines.insert(
        1, logfmt_line({"ts": "x", "event": "baseline", "run": "r", **encode_sample(baseline)})
    )
    parsed = ParsedLogs()
    parsed.add_lines(lines, "log")
    (run,) = parsed.finished_runs()
    assert replay_run(run, load_gate_specs(section)).rollback is None


# --- the command ---------------------------------------------------------------------------
def write_log(ws: Path, name: str, lines: list[str]) -> Path:
    path = ws / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def candidate_file(tmp_path: Path, ws: Path, threshold: float) -> Path:
    data = json.loads((ws / "quality-gates-config.json").read_text(encoding="utf-8"))
    for gate in data["environments"]["production"]["gates"]:
        if gate["name"] == "low_confidence_queue":
            gate["threshold"] = threshold
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_cli_replay_reports_rollback_avoided(
    example_workspace: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    write_log(
        example_workspace,
        "monitor_production_20260101T000000Z.log",
        [*queue_run("r1", [10, 1200, 10]), 'garbage "line'],
    )
    candidate = candidate_file(tmp_path, example_workspace, 1500)
    code, out, err = run_cli(
        "--root",
        str(example_workspace),
        "gates",
        "replay",
        "--env",
        "production",
        "--config",
        str(candidate),
    )
    assert code == 0, err
    assert "low_confidence_queue fired at poll 2 (+0m30s" in out
    assert "change: rollback avoided" in out
    assert "1 rollback(s) avoided, 0 added" in out
    assert "skipped 1 unreadable line(s)" in err


def test_cli_replay_json(example_workspace: Path, tmp_path: Path, run_cli: CliRunner) -> None:
    write_log(example_workspace, "monitor_production_a.log", queue_run("r1", [10, 1200]))
    code, out, _ = run_cli(
        "--root", str(example_workspace), "gates", "replay", "--env", "production", "--json"
    )
    assert code == 0
    report = json.loads(out)
    (run,) = report["runs"]
    assert run["current"]["rollback"]["gate"] == "low_confidence_queue"
    assert run["current"]["rollback"]["elapsed_seconds"] == 30
    assert report["summary"]["rollbacks_current"] == 1 and report["candidate"] is None


def test_cli_replay_custom_glob(example_workspace: Path, run_cli: CliRunner) -> None:
    write_log(example_workspace, "archive/old_run.txt", queue_run("r1", [1200]))
    code, out, _ = run_cli(
        "--root",
        str(example_workspace),
        "gates",
        "replay",
        "--env",
        "production",
        "--logs",
        "logs/archive/*.txt",
    )
    assert code == 0 and "rolls back 1 of 1 run(s)" in out


def test_cli_replay_without_logs_exits_2(example_workspace: Path, run_cli: CliRunner) -> None:
    code, _, err = run_cli(
        "--root", str(example_workspace), "gates", "replay", "--env", "production"
    )
    assert code == 2
    assert "no monitor logs match 'logs/monitor_production_*.log'" in err
    assert "--logs GLOB" in err


def test_cli_replay_bad_candidate_exits_2(
    example_workspace: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    write_log(example_workspace, "monitor_production_a.log", queue_run("r1", [10]))
    bad = tmp_path / "bad.json"
    bad.write_text('{"environments": {"production": {"schedule": 1}}', encoding="utf-8")
    code, _, err = run_cli(
        "--root",
        str(example_workspace),
        "gates",
        "replay",
        "--env",
        "production",
        "--config",
        str(bad),
    )
    assert code == 2 and "malformed JSON" in err
    code, _, err = run_cli(
        "--root",
        str(example_workspace),
        "gates",
        "replay",
        "--env",
        "production",
        "--config",
        str(tmp_path / "missing.json"),
    )
    assert code == 2 and "not found" in err


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage\n", b""])
def test_cli_replay_of_unreadable_log_is_not_a_crash(
    example_workspace: Path, run_cli: CliRunner, content: bytes
) -> None:
    path = example_workspace / "logs" / "monitor_production_x.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    code, _, err = run_cli(
        "--root", str(example_workspace), "gates", "replay", "--env", "production"
    )
    assert code == 0
    assert "no monitoring run of 'production'" in err


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" =ab1.\\\t-", max_size=40))
def test_logfmt_fast_path_equals_scanning_parser(line: str) -> None:
    assert parse_logfmt(line) == parse_logfmt_scanning(line)


def test_replay_reads_what_the_monitor_log_writes(tmp_path: Path) -> None:
    from dhash_gha.adapters.monitoring.past_logs import read_monitor_logs
    from dhash_gha.adapters.monitoring.poll_log import MonitorLog, poll_fields
    from dhash_gha.adapters.reporter import Reporter
    from dhash_gha.core.clock import FakeClock

    clock = FakeClock()
    log = MonitorLog(tmp_path / "monitor_production_x.log", Reporter({}, clock=clock), clock)
    gates = load_gate_specs(gates_section())
    log.write({"event": "monitor_start", "run": "R", "env": "production", "gates_sha256": "s"})
    samples: list[Sample] = []
    for poll, items in enumerate([10.0, 20.0, 1500.0, 30.0], start=1):
        errors = {"health": 'timed out after 2 s "quoted"'} if poll == 2 else {}
        values = {"queue_items": items} | ({} if errors else {"health_ok": 1.0})
        samples.append(Sample(at=30.0 * poll, values=values, errors=errors))
        verdicts = evaluate_gates(gates, samples, now=30.0 * poll)
        log.write(poll_fields("R", poll, samples[-1], verdicts, None))
    log.write({"event": "verdict", "run": "R", "status": "rolled_back", "polls": 4})

    parsed = read_monitor_logs([log.path], lambda p: p.name, lambda m: None)
    (run,) = parsed.finished_runs("production")
    assert parsed.skipped == 0 and run.outcome == "rolled_back"
    assert [p.sample for p in run.polls] == samples
    outcome = replay_run(run, gates)
    assert outcome.recorded_mismatches == 0
    assert outcome.rollback is not None and outcome.rollback.poll == 3


REAL_LOGS = Path(__file__).with_name("monitor_logs")


def test_cli_replay_of_real_rehearsal_logs(
    example_workspace: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    """Logs written by a real monitor run: a good release, then one failing 40 % of extractions."""
    logs = example_workspace / "logs"
    logs.mkdir(exist_ok=True)
    for path in REAL_LOGS.glob("monitor_production_*.log"):
        (logs / path.name).write_bytes(path.read_bytes())
    data = json.loads((example_workspace / "quality-gates-config.json").read_text("utf-8"))
    for gate in data["environments"]["production"]["gates"]:
        if gate["name"] == "extraction_failure_rate":
            gate["threshold"] = 50
    candidate = tmp_path / "candidate.json"
    candidate.write_text(json.dumps(data), encoding="utf-8")

    code, out, err = run_cli(
        "--root",
        str(example_workspace),
        "gates",
        "replay",
        "--env",
        "production",
        "--config",
        str(candidate),
        "--json",
    )
    assert code == 0, err
    report = json.loads(out)
    good, bad = report["runs"]  # oldest first
    assert good["recorded_outcome"] == "passed" and good["current"]["fired"] == []
    assert bad["recorded_outcome"] == "rolled_back"
    rollback = bad["current"]["rollback"]
    assert (rollback["gate"], rollback["poll"], rollback["value"]) == (
        "extraction_failure_rate",
        2,
        40.0,
    )
    assert bad["current"]["recorded_mismatches"] == 0 == good["current"]["recorded_mismatches"]
    assert bad["change"] == "rollback avoided" and report["skipped_lines"] == 0


def test_cli_replay_writes_job_summary_on_actions(
    example_workspace: Path, tmp_path: Path, run_cli: CliRunner, clean_environ: dict[str, str]
) -> None:
    write_log(example_workspace, "monitor_production_a.log", queue_run("r1", [10, 1200]))
    summary = tmp_path / "summary.md"
    environ = {**clean_environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    code, _, _ = run_cli(
        "--root", str(example_workspace), "gates", "replay", "--env", "production", environ=environ
    )
    assert code == 0
    text = summary.read_text(encoding="utf-8")
    assert "### Gate replay: production" in text
    assert "| `r1` | 2 | `low_confidence_queue` poll 2 (+0m30s) → rollback |" in text


def test_text_names_gates_without_any_verdict() -> None:
    from dhash_gha.core.gates.replay_render import render_text

    parsed = ParsedLogs()
    lines = queue_run("r", [10, 20])
    parsed.add_lines([line.replace("m.queue_items", "m.other") for line in lines], "log")
    report = replay(parsed, "production", load_gate_specs(gates_section()))
    text = "\n".join(render_text(report))
    assert "no verdict at any poll (no data): low_confidence_queue" in text
