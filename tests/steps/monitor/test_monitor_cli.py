"""``dhash-gha monitor`` end to end in-process: real sources against a component that is down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dhash_gha.core.clock import FakeClock
from dhash_gha.core.gates.sample import parse_logfmt

RunCli = Callable[..., tuple[int, str, str]]


def test_monitor_of_a_down_component_fails_health_and_notifies_with_no_rollback(
    example_workspace: Path, run_cli: RunCli, clean_environ: dict[str, str]
) -> None:
    clock = FakeClock()
    code, out, err = run_cli(
        "--root",
        str(example_workspace),
        "monitor",
        "--env",
        "production",
        "--duration",
        "2",
        "--no-rollback",
        environ=clean_environ,
        clock=clock,
    )
    assert code == 1, err
    logs = sorted((example_workspace / "logs").glob("monitor_production_*.log"))
    assert len(logs) == 1
    polls = [
        parse_logfmt(line)
        for line in logs[0].read_text(encoding="utf-8").splitlines()
        if " event=poll " in line
    ]
    assert [float(p["at"]) for p in polls] == [0, 30, 60, 90, 120]
    assert all(p["m.health_ok"] == "0.0" for p in polls)
    assert "unreachable" in polls[0]["err.metrics"]
    assert polls[-1]["gate.health_failures"] == "fail"
    assert polls[-1]["gate.extraction_failure_rate"] == "inconclusive"
    # the gate notification went through the real notifier: its audit record exists
    records = list((example_workspace / "notifications" / "fallback").glob("*"))
    assert records, "no notification audit record"
    assert "health_failures" in err
    assert "[monitor production] poll 5/5" in out


def test_bad_time_scale_and_duration_are_bad_input(
    example_workspace: Path, run_cli: RunCli
) -> None:
    code, _, err = run_cli(
        "--root", str(example_workspace), "monitor", "--env", "production", "--time-scale", "0"
    )
    assert code == 2 and "--time-scale" in err
    code, _, err = run_cli(
        "--root", str(example_workspace), "monitor", "--env", "production", "--duration", "-5"
    )
    assert code == 2 and "--duration" in err
    assert not (example_workspace / "logs").exists() or not list(
        (example_workspace / "logs").glob("monitor_*")
    )


def test_unknown_environment_is_bad_input(example_workspace: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("--root", str(example_workspace), "monitor", "--env", "prodution")
    assert code == 2
    assert "production" in err
