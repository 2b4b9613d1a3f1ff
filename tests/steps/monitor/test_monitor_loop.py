"""The monitor loop with a FakeClock: an hour of polls, resume, and every gate action."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from monitor_fakes import Recorder, World

from dhash_gha.adapters.monitoring.state import load_state
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock
from dhash_gha.core.gates.sample import parse_logfmt
from dhash_gha.core.gates.schedule import Schedule
from dhash_gha.errors import BadInput, RollbackFailed
from dhash_gha.steps.monitor import Monitor, MonitorRollbackFailed, MonitorRolledBack, run_monitor


def poll_lines(path: Path) -> list[dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_logfmt(line) for line in lines if " event=poll " in line]


def planned(ws: Workspace, env: str) -> list[float]:
    from dhash_gha.adapters.config import load_gates_config

    return Schedule.from_config(load_gates_config(ws, env)["schedule"]).poll_times()


def run(
    ws: Workspace,
    clock: FakeClock,
    reporter: Reporter,
    world: World,
    recorder: Recorder,
    env: str = "production",
    **kwargs: Any,
) -> Any:
    return run_monitor(
        ws,
        env,
        environ={},
        clock=clock,
        reporter=reporter,
        sources=world.sources(clock),
        actions=recorder.actions(),
        **kwargs,
    )


def test_a_healthy_hour_passes_in_well_under_a_second(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    recorder = Recorder()
    started = time.perf_counter()
    result = run(ws, clock, reporter, World(), recorder)
    assert time.perf_counter() - started < 1.0
    times = planned(ws, "production")
    assert result.status == "passed"
    assert result.polls == len(times) == 39  # 11 polls in 5 min at 30 s, then every 2 min
    assert clock.monotonic() == pytest.approx(3600.0)
    assert recorder.calls == []
    lines = poll_lines(result.log_path)
    assert [float(line["at"]) for line in lines] == pytest.approx(times)
    assert [int(line["poll"]) for line in lines] == list(range(1, 40))
    last = lines[-1]
    assert last["run"] == result.run_id
    assert float(last["hash_time_p95_ms"]) == pytest.approx(95.0)  # 0.05 s bucket-interpolated
    assert {
        last[f"gate.{name}"]
        for name in (
            "health_failures",
            "extraction_failure_rate",
            "p95_hash_time",
            "low_confidence_queue",
        )
    } == {"pass"}
    assert float(last["value.extraction_failure_rate"]) == pytest.approx(1.0)
    assert float(last["m.queue_items"]) == 3.0
    text = result.log_path.read_text(encoding="utf-8")
    assert f"event=monitor_start run={result.run_id} env=production gates_sha256=" in text
    assert text.splitlines()[-1].split(" event=")[1].startswith("verdict")
    assert result.log_path.name.startswith("monitor_production_")
    assert load_state(ws.monitor_state("production")).status == "passed"


def test_duration_override_shortens_the_schedule(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    result = run(ws, clock, reporter, World(), Recorder(), duration_minutes=2)
    assert [float(line["at"]) for line in poll_lines(result.log_path)] == [0, 30, 60, 90, 120]


def test_health_failures_roll_back_to_the_pre_deploy_backup(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    recorder = Recorder()
    world = World(health_fails_from=60)
    with pytest.raises(MonitorRolledBack) as info:
        run(ws, clock, reporter, world, recorder)
    assert info.value.exit_code == 3
    result = info.value.result
    assert result.status == "rolled_back"
    # 3 consecutive failures (60, 90, 120 s) are more than 2: poll 5 trips the gate.
    trip = result.trips[0]
    assert (trip.gate, trip.poll, trip.at, trip.value) == ("health_failures", 5, 120.0, 3.0)
    assert recorder.names() == ["notify", "rollback", "open_incident"]
    _, notify_args, notify_kwargs = recorder.calls[0]
    assert notify_args[2] == "critical"
    assert notify_kwargs["details"]["gate"] == "health_failures"
    assert notify_kwargs["details"]["release"] == "r-2"
    _, rollback_args, rollback_kwargs = recorder.calls[1]
    assert rollback_args[1] == "production"
    assert rollback_kwargs["backup"] == ws.root / "backups/dhash_production_20260101_000000.zip"
    assert rollback_kwargs["automatic"] is True and rollback_kwargs["force"] is True
    assert "health_failures" in rollback_kwargs["reason"]
    assert "INC-20260101-000200" in info.value.message
    text = result.log_path.read_text(encoding="utf-8")
    assert "event=rollback_start" in text and "event=rollback_done" in text
    assert "event=verdict" in text and "status=rolled_back" in text
    assert len(poll_lines(result.log_path)) == 5
    assert load_state(ws.monitor_state("production")).status == "rolled_back"


def test_a_failed_rollback_is_exit_4_and_still_opens_the_incident(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    recorder = Recorder(rollback_error=RollbackFailed("checksum mismatch", tip="use another"))
    with pytest.raises(MonitorRollbackFailed) as info:
        run(ws, clock, reporter, World(queue_from=0), recorder)
    assert info.value.exit_code == 4
    assert "checksum mismatch" in info.value.message
    assert info.value.tip == "use another"
    assert recorder.names() == ["notify", "rollback", "open_incident"]
    assert "FAILED" in recorder.calls[2][2]["reason"]
    assert info.value.result.status == "rollback_failed"
    assert info.value.result.trips[0].gate == "low_confidence_queue"


def test_a_broken_notifier_does_not_stop_the_rollback(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    recorder = Recorder()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("smtp down")

    actions = recorder.actions()
    from dataclasses import replace

    with pytest.raises(MonitorRolledBack):
        run_monitor(
            ws,
            "production",
            environ={},
            clock=clock,
            reporter=reporter,
            sources=World(queue_from=0).sources(clock),
            actions=replace(actions, notify=broken),
        )
    assert recorder.names() == ["rollback", "open_incident"]


def test_alert_notifies_once_and_dry_run_logs_would_have_rolled_back(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    # staging: p95_hash_time is an alert gate, low_confidence_queue a dry-run gate.
    recorder = Recorder()
    result = run(ws, clock, reporter, World(slow_from=0, queue_from=600), recorder, env="staging")
    assert result.status == "passed"
    assert result.polls == len(planned(ws, "staging"))
    assert recorder.names() == ["notify"]
    _, args, kwargs = recorder.calls[0]
    assert args[2] == "gate" and kwargs["details"]["gate"] == "p95_hash_time"
    text = result.log_path.read_text(encoding="utf-8")
    assert text.count("event=would_roll_back") == 1
    assert 'message="would have rolled back"' in text
    assert {t.gate for t in result.trips} == {"p95_hash_time", "low_confidence_queue"}
    assert poll_lines(result.log_path)[-1]["gate.low_confidence_queue"] == "fail"


def test_no_rollback_notifies_instead_and_the_run_fails(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    recorder = Recorder()
    result = run(ws, clock, reporter, World(health_fails_from=60), recorder, no_rollback=True)
    assert result.status == "failed"
    assert recorder.names() == ["notify"]
    assert recorder.calls[0][1][2] == "gate"
    assert "--no-rollback" in recorder.calls[0][1][3]
    assert result.polls == 39


def test_a_source_that_is_down_is_no_data_and_the_monitor_goes_on(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    result = run(ws, clock, reporter, World(metrics_down_from=0), Recorder())
    assert result.status == "passed"
    last = poll_lines(result.log_path)[-1]
    assert last["err.metrics"] == "unreachable: ConnectError: refused"
    assert last["gate.extraction_failure_rate"] == "inconclusive"
    assert last["value.p95_hash_time"] == ""
    assert last["hash_time_p95_ms"] == ""


class Killed(BaseException):
    """Stands for the process being killed in the middle of a run."""


def test_a_killed_monitor_resumes_the_same_run_and_windows(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    # Health fails from 60 s. The first monitor dies while taking its 5th poll (120 s),
    # after two failures were saved; the restarted one sees those two in its window,
    # so the third failure, at its first poll, trips the gate.
    world = World(health_fails_from=60)
    sources = world.sources(clock)
    health = sources[0]
    original = health.read

    def dies_at_poll_five(t: float) -> Any:
        if health.calls == 5:
            raise Killed()
        return original(t)

    health.read = dies_at_poll_five
    recorder = Recorder()
    first = Monitor(
        ws,
        "production",
        environ={},
        clock=clock,
        reporter=reporter,
        sources=sources,
        actions=recorder.actions(),
    )
    with pytest.raises(Killed):
        first.run()
    saved = load_state(ws.monitor_state("production"))
    assert saved.polls == 4 and saved.status == "running"
    del first

    clock.advance(5)  # restarted 5 s later
    with pytest.raises(MonitorRolledBack) as info:
        run(
            ws,
            clock,
            Reporter({}, clock=clock, stream=reporter.stream, err_stream=reporter.err_stream),
            world,
            recorder,
        )
    result = info.value.result
    assert result.resumed is True
    assert result.run_id == saved.run_id
    assert result.log_path == ws.root / saved.log_file
    assert result.trips[0].poll == 5 and result.trips[0].at == pytest.approx(125.0)
    lines = poll_lines(result.log_path)
    assert [int(line["poll"]) for line in lines] == [1, 2, 3, 4, 5]
    assert {line["run"] for line in lines} == {saved.run_id}
    assert "event=monitor_resume" in result.log_path.read_text(encoding="utf-8")


def test_resume_continues_the_schedule_after_missed_polls(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    sources = World().sources(clock)
    calls = {"n": 0}
    original = sources[1].read

    def dies(t: float) -> Any:
        calls["n"] += 1
        if calls["n"] == 12:  # the poll at 420 s
            raise Killed()
        return original(t)

    sources[1].read = dies
    with pytest.raises(Killed):
        run_monitor(
            ws,
            "production",
            environ={},
            clock=clock,
            reporter=reporter,
            sources=sources,
            actions=Recorder().actions(),
        )
    clock.advance(500)  # down from 420 s to 920 s: the polls at 540 … 900 s were missed
    result = run(ws, clock, reporter, World(), Recorder())
    ats = [float(line["at"]) for line in poll_lines(result.log_path)]
    assert ats[:11] == pytest.approx([30.0 * i for i in range(11)])
    assert ats[11] == pytest.approx(920.0)  # one catch-up poll at once
    assert ats[12] == pytest.approx(1020.0)  # then back on the schedule
    assert ats[-1] == pytest.approx(3600.0)
    assert result.resumed


def test_a_new_release_or_fresh_starts_a_new_run(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    sources = World().sources(clock)
    original = sources[0].read

    def dies(t: float) -> Any:
        if t >= 60:
            raise Killed()
        return original(t)

    sources[0].read = dies
    with pytest.raises(Killed):
        run_monitor(
            ws,
            "production",
            environ={},
            clock=clock,
            reporter=reporter,
            sources=sources,
            actions=Recorder().actions(),
        )
    first = load_state(ws.monitor_state("production")).run_id
    again = run(ws, clock, reporter, World(), Recorder(), fresh=True, duration_minutes=1)
    assert again.run_id != first and not again.resumed


def test_an_unreadable_state_starts_a_new_run_with_a_warning(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    path = ws.monitor_state("production")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    result = run(ws, clock, reporter, World(), Recorder(), duration_minutes=1)
    assert result.status == "passed" and not result.resumed
    assert "unreadable" in reporter.err_stream.getvalue()  # type: ignore[attr-defined]


def test_a_second_monitor_on_the_same_environment_is_refused(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    sources = World().sources(clock)
    original = sources[0].read
    refused: list[BadInput] = []

    def start_another(t: float) -> Any:
        try:
            run(ws, clock, reporter, World(), Recorder(), duration_minutes=1)
        except BadInput as exc:
            refused.append(exc)
        return original(t)

    sources[0].read = start_another
    run_monitor(
        ws,
        "production",
        environ={},
        clock=clock,
        reporter=reporter,
        sources=sources,
        actions=Recorder().actions(),
        duration_minutes=0.5,
    )
    assert refused and "already running" in refused[0].message


def test_on_a_terminal_the_wait_is_redrawn_every_second(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    import io

    from dhash_gha.steps.monitor.progress import Progress

    screen = io.StringIO()
    progress = Progress(Reporter({}, stream=screen, clock=clock), redraw=True)
    monitor = Monitor(ws, "production", environ={}, clock=clock, reporter=reporter,
                      sources=World().sources(clock), actions=Recorder().actions(),
                      duration_minutes=1, progress=progress)  # fmt: skip
    assert monitor.run().status == "passed"
    text = screen.getvalue()
    assert "next poll in 00:29" in text and "next poll in 00:01" in text
    assert text.count("\x1b[") >= 58  # one redraw per second of waiting (2 × 30 s)


def test_a_baseline_is_logged_for_replay_and_kept_in_the_state(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    from dhash_gha.core.gates.sample import Sample, decode_sample

    baseline = Sample(0.0, {"queue_items": 4000.0, "health_ok": 1.0})
    result = run(ws, clock, reporter, World(), Recorder(), duration_minutes=1, baseline=baseline)
    lines = [
        parse_logfmt(line) for line in result.log_path.read_text(encoding="utf-8").splitlines()
    ]
    logged = [fields for fields in lines if fields.get("event") == "baseline"]
    assert len(logged) == 1 and logged[0]["run"] == result.run_id
    assert decode_sample(logged[0]) == baseline
    assert load_state(ws.monitor_state("production")).baseline == baseline


def test_a_password_in_a_source_url_is_masked_in_the_log_and_the_state(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    from dhash_gha.adapters.sources import SourceReading

    class LeakySource:
        name = "prometheus"
        base_url = "http://monitor:pw-123456@prom.example:9090"

        def collect(self) -> SourceReading:
            return SourceReading.failed(f"unreachable: {self.base_url} refused")

    sources = [*World().sources(clock), LeakySource()]
    result = run_monitor(ws, "production", environ={}, clock=clock, reporter=reporter,
                         sources=sources, actions=Recorder().actions(), duration_minutes=1)  # fmt: skip
    log = result.log_path.read_text(encoding="utf-8")
    assert "err.prometheus=" in log and "pw-123456" not in log
    assert "pw-123456" not in ws.monitor_state("production").read_text(encoding="utf-8")
