"""The monitor at its edges: a release record without a backup, a kill between effects."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from monitor_fakes import Recorder, World

from dhash_gha.adapters.monitoring.state import load_state
from dhash_gha.adapters.releases import read_release, write_release
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.sources import SourceReading
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock
from dhash_gha.core.gates.sample import parse_logfmt
from dhash_gha.steps.monitor import MonitorRollbackFailed, MonitorRolledBack, run_monitor


@pytest.mark.parametrize("record", ["no backup named", "no record"])
def test_a_release_without_a_pre_deploy_backup_and_no_backups_is_exit_4(
    ws: Workspace, clock: FakeClock, reporter: Reporter, record: str
) -> None:
    release: Any = read_release(ws, "production")
    if record == "no record":
        ws.release_record("production").unlink()
    else:
        write_release(ws, "production", {**release, "pre_deploy_backup": None})
    assert not list(ws.backups_dir.glob("*.zip"))
    with pytest.raises(MonitorRollbackFailed) as info:
        run_monitor(
            ws,
            "production",
            environ={},
            clock=clock,
            reporter=reporter,
            sources=World(queue_from=0).sources(clock),
        )
    assert info.value.exit_code == 4
    assert info.value.result.status == "rollback_failed"
    assert "backup" in info.value.message
    text = info.value.result.log_path.read_text(encoding="utf-8")
    assert "event=rollback_failed" in text and "status=rollback_failed" in text
    assert list(ws.incidents_dir.glob("INC-*")), "the incident is opened even so"


class Killed(BaseException):
    """Stands for the process being killed in the middle of a run."""


def test_an_alert_cut_short_by_a_kill_is_sent_again_by_the_resumed_monitor(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    # staging: p95_hash_time is an alert gate. The first monitor is killed while its
    # notification is on the way (a webhook can take seconds): the resumed monitor must
    # still alert, not treat the gate as already notified.
    world = World(slow_from=0)
    first, second = Recorder(), Recorder()

    def killed_while_notifying(*args: Any, **kwargs: Any) -> None:
        raise Killed()

    actions = first.actions()
    with pytest.raises(Killed):
        run_monitor(
            ws,
            "staging",
            environ={},
            clock=clock,
            reporter=reporter,
            sources=world.sources(clock),
            actions=replace(actions, notify=killed_while_notifying),
        )
    clock.advance(5)
    result = run_monitor(
        ws,
        "staging",
        environ={},
        clock=clock,
        reporter=reporter,
        sources=world.sources(clock),
        actions=second.actions(),
    )
    assert result.resumed
    assert second.names() == ["notify"]
    assert second.calls[0][2]["details"]["gate"] == "p95_hash_time"


def test_a_poll_logged_but_not_saved_before_a_kill_is_neither_lost_nor_logged_twice(
    ws: Workspace, clock: FakeClock, reporter: Reporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dhash_gha.steps.monitor.loop as loop

    saves = {"n": 0}
    real_save = loop.save_state

    def killed_before_the_third_polls_save(path: Any, state: Any) -> None:
        saves["n"] += 1
        if saves["n"] == 4:  # the run's first save, then polls 1 and 2; poll 3 is logged
            raise Killed()
        real_save(path, state)

    monkeypatch.setattr(loop, "save_state", killed_before_the_third_polls_save)
    with pytest.raises(Killed):
        run_monitor(
            ws,
            "production",
            environ={},
            clock=clock,
            reporter=reporter,
            sources=World().sources(clock),
            actions=Recorder().actions(),
            duration_minutes=3,
        )
    monkeypatch.setattr(loop, "save_state", real_save)
    clock.advance(5)
    result = run_monitor(
        ws,
        "production",
        environ={},
        clock=clock,
        reporter=reporter,
        sources=World().sources(clock),
        actions=Recorder().actions(),
        duration_minutes=3,
    )
    assert result.resumed
    lines = [
        parse_logfmt(line)
        for line in result.log_path.read_text(encoding="utf-8").splitlines()
        if " event=poll " in line
    ]
    polls = [int(line["poll"]) for line in lines]
    assert polls == sorted(set(polls)), f"a poll number logged twice: {polls}"
    ats = [float(line["at"]) for line in lines]
    assert ats[:3] == [0.0, 30.0, 60.0]  # the poll taken before the kill is kept
    saved = load_state(ws.monitor_state("production"))
    assert [s.at for s in saved.samples] == ats


def test_control_characters_from_a_source_keep_the_monitor_log_greppable(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    # A scrape answering binary garbage: its excerpt lands in err.metrics. A NUL makes
    # grep call the whole log a binary file; a form feed or U+2028 splits a poll line
    # for every reader that uses str.splitlines().
    world = World()
    sources = world.sources(clock)
    sources[1].read = lambda t: SourceReading.failed(
        "not Prometheus text: '\x00\x01\x1b[31m\x0c\u2028x'"
    )
    result = run_monitor(
        ws,
        "production",
        environ={},
        clock=clock,
        reporter=reporter,
        sources=sources,
        actions=Recorder().actions(),
        duration_minutes=1,
    )
    data = result.log_path.read_bytes()
    assert b"\x00" not in data and b"\x1b" not in data
    text = data.decode("utf-8")
    assert len(text.splitlines()) == text.count("\n")
    polls = [line for line in text.splitlines() if " event=poll " in line]
    assert len(polls) == result.polls
    assert all("hash_time_p95_ms=" in line for line in polls)
    assert all("not Prometheus text" in parse_logfmt(line)["err.metrics"] for line in polls)


def test_a_rollback_cut_short_by_a_kill_at_the_last_poll_is_done_by_the_resumed_monitor(
    ws: Workspace, clock: FakeClock, reporter: Reporter
) -> None:
    # The queue floods at the last poll (60 s of a 1-minute run): the gate fails, the state
    # is saved, and the monitor is killed before its rollback ran. Started again, there is
    # no poll left: it must still roll back, not end as "failed, not rolled back".
    def killed_before_rolling_back(*args: Any, **kwargs: Any) -> None:
        raise Killed()

    with pytest.raises(Killed):
        run_monitor(
            ws,
            "production",
            environ={},
            clock=clock,
            reporter=reporter,
            sources=World(queue_from=60).sources(clock),
            actions=replace(Recorder().actions(), rollback=killed_before_rolling_back),
            duration_minutes=1,
        )
    assert load_state(ws.monitor_state("production")).status == "running"
    clock.advance(5)
    recorder = Recorder()
    with pytest.raises(MonitorRolledBack) as info:
        run_monitor(
            ws,
            "production",
            environ={},
            clock=clock,
            reporter=reporter,
            sources=World(queue_from=60).sources(clock),
            actions=recorder.actions(),
            duration_minutes=1,
        )
    assert info.value.result.resumed
    assert "rollback" in recorder.names()
    assert info.value.result.trips[0].gate == "low_confidence_queue"


def test_a_line_torn_by_a_kill_does_not_swallow_the_next_line(
    tmp_path: Any, clock: FakeClock, reporter: Reporter
) -> None:
    from dhash_gha.adapters.monitoring.poll_log import MonitorLog

    path = tmp_path / "monitor_production.log"
    path.write_text(
        "ts=x level=INFO event=poll run=r poll=3 at=60.000 m.queue_it", encoding="utf-8"
    )
    MonitorLog(path, reporter, clock).write({"event": "monitor_resume", "run": "r", "poll": 2})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert parse_logfmt(lines[1])["event"] == "monitor_resume"
