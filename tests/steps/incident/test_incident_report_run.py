"""Incidents from a recorded monitoring run: archive, report, chart, regeneration, CLI."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dhash_gha.adapters.channels import notify
from dhash_gha.adapters.monitoring.poll_log import MonitorLog, poll_fields
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock, iso_utc
from dhash_gha.core.gates.engine import GateVerdict
from dhash_gha.core.gates.sample import Sample
from dhash_gha.steps.incident import open_incident, regenerate_report

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
P95 = [310.0, 330.0, 900.0, 1500.0, 2100.0, 2450.0, 2600.0]
POLL_TIMES = [30, 60, 90, 120, 150, 180, 210]
GATES = {
    "health_failures": (2.0, "checks"),
    "extraction_failure_rate": (5.0, "percent"),
    "p95_hash_time": (2000.0, "ms"),
    "low_confidence_queue": (1000.0, "items"),
}
RunCli = Callable[..., tuple[int, str, str]]


def quiet_reporter(clock: FakeClock) -> Reporter:
    return Reporter({}, stream=io.StringIO(), err_stream=io.StringIO(), clock=clock)


def record_monitoring_run(ws: Workspace, clock: FakeClock) -> tuple[Path, Path]:
    """A monitor log as the monitor writes it, a rollback log, and a verified backup."""
    reporter = quiet_reporter(clock)
    monitor_path = ws.log_file("monitor", "production", clock.now())
    log = MonitorLog(monitor_path, reporter, clock)
    log.write(
        {"event": "monitor_start", "run": "run-1", "env": "production", "gates_sha256": "ab" * 32}
    )
    for poll, (at, p95) in enumerate(zip(POLL_TIMES, P95, strict=True), start=1):
        clock.advance(at - clock.monotonic())
        verdicts = [
            GateVerdict(
                name=name,
                status=("fail" if value_of(name, p95) > threshold else "pass"),
                value=value_of(name, p95),
                threshold=threshold,
                unit=unit,
                action="rollback",
                reason="",
                samples=poll,
            )
            for name, (threshold, unit) in GATES.items()
        ]
        sample = Sample(at=float(at), values={"health_ok": 1.0, "queue_items": 3.0})
        log.write(poll_fields("run-1", poll, sample, verdicts, p95))
    log.write(
        {"event": "verdict", "run": "run-1", "status": "fail", "polls": len(P95)}, level="ERROR"
    )

    backup = ws.backups_dir / "dhash_production_20260301_115500.zip"
    backup.parent.mkdir(parents=True, exist_ok=True)
    backup.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    digest = hashlib.sha256(backup.read_bytes()).hexdigest()
    ws.sidecar(backup).write_text(f"{digest}  backups/{backup.name}\n", encoding="utf-8")

    clock.advance(5)
    rollback = quiet_reporter(clock)
    rollback.attach_log(ws.log_file("rollback", "production", clock.now()))
    rollback.event("rollback_start", backup=f"backups/{backup.name}", reason="p95_hash_time failed")
    clock.advance(20)
    rollback.event("rollback_done", status="ok", release="r2026.02.28-3")
    # another environment's log and the service log
    ws.log_file("deploy", "staging", clock.now()).write_text(
        "ts=x event=deploy\n", encoding="utf-8"
    )
    ws.service_log("production", clock.now()).write_text("service started\n", encoding="utf-8")
    return monitor_path, backup


def value_of(name: str, p95: float) -> float:
    return {"p95_hash_time": p95, "health_failures": 0.0}.get(name, 1.0)


@pytest.fixture
def recorded(example_workspace: Path) -> tuple[Workspace, FakeClock, Path, Path]:
    ws = Workspace.at(example_workspace)
    clock = FakeClock(START)
    monitor_log, backup = record_monitoring_run(ws, clock)
    clock.advance(2)
    notify(
        ws,
        "production",
        "rollback",
        "rolled back after p95_hash_time failed",
        environ={},
        clock=clock,
        reporter=quiet_reporter(clock),
        details={"gate": "p95_hash_time", "value": 2600, "threshold": 2000, "unit": "ms"},
    )
    return ws, clock, monitor_log, backup


def chart_of(report: str) -> str:
    match = re.search(r"```mermaid\n(.*?)```", report, re.S)
    assert match, "no mermaid block"
    return match.group(1)


def test_report_of_a_recorded_run_has_gate_values_and_chart(
    recorded: tuple[Workspace, FakeClock, Path, Path],
) -> None:
    ws, clock, monitor_log, backup = recorded
    clock.advance(10)
    opened_at = clock.now()
    incident = open_incident(
        ws,
        "production",
        reason="automatic rollback: p95_hash_time",
        clock=clock,
        reporter=quiet_reporter(clock),
        details={
            "gate": "p95_hash_time",
            "value": 2600,
            "threshold": 2000,
            "unit": "ms",
            "release": "r2026.03.01-1",
            "backup": f"backups/{backup.name}",
            "monitor_log": monitor_log.relative_to(ws.root).as_posix(),
            "monitor_run": "run-1",
        },
    )
    assert incident.id == "INC-" + opened_at.strftime("%Y%m%d-%H%M%S")
    assert incident.path == ws.incident_dir(opened_at)
    archived = sorted(p.name for p in (incident.path / "logs").iterdir())
    assert monitor_log.name in archived
    assert any(n.startswith("rollback_production_") for n in archived)
    assert "dhash_production_20260301.log" in archived
    assert not any("staging" in n for n in archived)
    assert (
        incident.path / "quality-gates-config.json"
    ).read_bytes() == ws.gates_config.read_bytes()
    assert len(list((incident.path / "notifications").glob("*.json"))) == 1

    report = incident.report_path.read_text(encoding="utf-8")
    assert "**p95_hash_time**: 2600 ms against a threshold of 2000 ms" in report
    assert "| p95_hash_time | 2600 ms | 2600 ms | 2000 ms | fail |" in report
    assert "| health_failures | 0 checks | 0 checks | 2 checks | pass |" in report
    chart = chart_of(report)
    assert chart.startswith("xychart-beta\n")
    x_axis = re.search(r'x-axis "minutes since monitoring started" \[(.*)\]', chart)
    assert x_axis and x_axis.group(1) == ", ".join(f'"{t / 60:g}"' for t in POLL_TIMES)
    assert re.search(r'y-axis "ms" 0 --> \d+', chart)
    lines = re.findall(r"line \[(.*)\]", chart)
    assert len(lines) == 2
    assert [float(v) for v in lines[0].split(", ")] == P95
    assert lines[1].split(", ") == ["2000"] * len(P95)
    assert len(re.findall(r"^\| \d+ \| 2026-03-01T", report, re.M)) == len(P95)
    # backup and its sha256 from the sidecar
    digest = hashlib.sha256(backup.read_bytes()).hexdigest()
    assert f"- path: `backups/{backup.name}`" in report and f"- sha256: `{digest}`" in report
    # timeline and actions: rollback events and the notification, in time order
    assert "rollback_done — status=ok" in report
    assert "notification 'rollback'" in report
    assert report.index("rollback_start") < report.index("rollback_done")
    assert "## Root cause" in report and "## Preventive measures" in report
    assert "Release | r2026.03.01-1" in report
    meta = json.loads((incident.path / "incident.json").read_text())
    assert meta["opened_at"] == iso_utc(opened_at) and meta["environment"] == "production"


def test_gate_and_threshold_are_found_without_details(
    recorded: tuple[Workspace, FakeClock, Path, Path],
) -> None:
    ws, clock, _, _ = recorded
    incident = open_incident(
        ws, "production", reason="by hand", clock=clock, reporter=quiet_reporter(clock)
    )
    report = incident.report_path.read_text(encoding="utf-8")
    # the first gate that failed in the last run, its threshold from the archived gates config
    assert "**p95_hash_time**: 2450 ms against a threshold of 2000 ms" not in report
    assert (
        "**p95_hash_time**: 2600 ms against a threshold of 2000 ms (fails when strictly greater); action: rollback"
        in report
    )
    assert "xychart-beta" in report
    # backup found in the rollback log
    assert "- path: `backups/dhash_production_20260301_115500.zip`" in report


def test_regenerate_keeps_filled_sections_and_two_incidents_never_share_a_directory(
    recorded: tuple[Workspace, FakeClock, Path, Path],
) -> None:
    ws, clock, _, _ = recorded
    first = open_incident(ws, "production", reason="a", clock=clock, reporter=quiet_reporter(clock))
    second = open_incident(
        ws, "production", reason="b", clock=clock, reporter=quiet_reporter(clock)
    )
    assert first.id != second.id and first.path.is_dir() and second.path.is_dir()
    text = first.report_path.read_text(encoding="utf-8")
    edited = re.sub(
        r"(## Root cause\n\n).*?\n", r"\1A cache stampede after the release.\n", text, flags=re.S
    )
    first.report_path.write_text(edited, encoding="utf-8")
    regenerate_report(ws, first.id, clock=clock, reporter=quiet_reporter(clock))
    again = first.report_path.read_text(encoding="utf-8")
    assert "## Root cause\n\nA cache stampede after the release.\n" in again
    assert "_To be filled in: what changes" in again
    assert not list(ws.incidents_dir.glob(".*partial"))


def test_incident_cli_open_report_and_bad_ids(
    recorded: tuple[Workspace, FakeClock, Path, Path], run_cli: RunCli
) -> None:
    ws, clock, _, _ = recorded
    root = str(ws.root)
    code, out, err = run_cli(
        "--root", root, "incident", "open", "--env", "production", "--reason", "p95", clock=clock
    )
    assert code == 0, err
    incident_id = re.search(r"incident (INC-\d{8}-\d{6}) opened", out)
    assert incident_id
    code, _, err = run_cli("--root", root, "incident", "report", incident_id.group(1), clock=clock)
    assert code == 0, err
    for bad in ("../config", "INC-2026-01", "/etc/passwd", "INC-20260301-120000/../../x"):
        code, _, err = run_cli("--root", root, "incident", "report", bad)
        assert code == 2 and "invalid incident id" in err
    code, _, err = run_cli("--root", root, "incident", "report", "INC-19990101-000000")
    assert code == 2 and "no incident INC-19990101-000000" in err and incident_id.group(1) in err
    code, _, err = run_cli("--root", root, "incident", "open", "--env", "prodution")
    assert code == 2 and "did you mean 'production'" in err


def test_incident_without_any_evidence_still_has_a_complete_report(example_workspace: Path) -> None:
    ws = Workspace.at(example_workspace)
    clock = FakeClock(START)
    incident = open_incident(
        ws, "staging", reason="manual check", clock=clock, reporter=quiet_reporter(clock)
    )
    report = incident.report_path.read_text(encoding="utf-8")
    assert "No gate is recorded as failing" in report
    assert "No monitoring run with poll values" in report
    assert "No backup is recorded" in report
    assert "## Root cause" in report and "## Preventive measures" in report
    assert "- `quality-gates-config.json`" in report


def test_unwritable_incidents_directory_is_a_clear_error(
    example_workspace: Path, run_cli: RunCli
) -> None:
    (example_workspace / "incidents").write_text("not a directory", encoding="utf-8")
    code, _, err = run_cli(
        "--root", str(example_workspace), "incident", "open", "--env", "production"
    )
    assert code == 1 and "cannot create the incident directory" in err and "tip:" in err
