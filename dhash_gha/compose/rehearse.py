"""The rehearsal: a bad release caught by the monitor and rolled back, on a throw-away workspace.

Steps, on a temporary copy of the example workspace (the copy packaged in the
wheel, or ``examples/dhash-app`` next to a checkout) with free ports:

1. deploy a good release and drive it with the component's load generator;
2. monitor it briefly (it passes);
3. deploy a bad release — the same component with extraction failures switched
   on in its config (``component.faults.extraction_failure_ratio``);
4. monitor it: the extraction-failure-rate gate fires, the monitor rolls back to
   the pre-deploy backup and opens an incident;
5. run the post-rollback smoke tests;
6. print the timeline, the gate that fired with its value, the detection time
   and the time until the environment was healthy again.

The monitoring schedule runs ``time_scale`` times faster; deploys, rollbacks and
smoke tests run in real time. No notification leaves the machine: secrets and
GitHub variables are removed from the environment the rehearsal runs with.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.clock import ScaledClock, SystemClock
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.scratch import copy_example
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock
from dhash_gha.core.gates.spec import UNIT_SYMBOLS, format_number
from dhash_gha.steps.deploy import deploy
from dhash_gha.steps.monitor import MonitorRolledBack, run_monitor
from dhash_gha.steps.smoke import run_smoke

ENV = "production"
BAD_FAULTS = {"extraction_failure_ratio": 0.5}
GOOD_MONITOR_MINUTES = 2.0
LOAD_RATE_PER_SECOND = 10.0
LOAD_MAX_SECONDS = 900.0
# Variables that could make a rehearsal page someone or touch GitHub.
_PRIVATE_PREFIXES = ("DHASH_", "GITHUB_", "GH_", "ACTIONS_", "RUNNER_")


@dataclass
class Rehearsal:
    ok: bool = False
    workspace: Path | None = None
    kept: bool = False
    timeline: list[tuple[float, str]] = field(default_factory=list)  # (real seconds, what)
    gate: str | None = None
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    detection_polls: int | None = None
    detection_scaled_seconds: float | None = None
    detection_seconds: float | None = None
    healthy_again_seconds: float | None = None
    total_seconds: float = 0.0
    time_scale: float = 1.0
    problem: str | None = None


def set_faults(ws: Workspace, env: str, faults: Mapping[str, Any]) -> None:
    path = ws.env_config(env)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["component"]["faults"].update(faults)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def private_environ(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith(_PRIVATE_PREFIXES)}


class LoadGenerator:
    """The component's own load generator (``python -m dhash_app load``) as a child process."""

    def __init__(self, ws: Workspace, env: str, environ: Mapping[str, str]) -> None:

        port = load_env_config(ws, env)["component"]["port"]
        self.output_path = ws.component_output(env).with_name("load_output.log")
        self.output_path.parent.mkdir(parents=True, exist_ok=True)
        self._output: IO[bytes] = self.output_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dhash_app", "load", "--url", f"http://127.0.0.1:{port}",
             "--rate", f"{LOAD_RATE_PER_SECOND:g}", "--duration", f"{LOAD_MAX_SECONDS:g}",
             "--workers", "4"],
            cwd=ws.src_dir, env=dict(environ), stdout=self._output, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._output.close()


def rehearse(
    *,
    environ: Mapping[str, str],
    reporter: Reporter,
    time_scale: float = 60.0,
    keep: bool = False,
    clock: Clock | None = None,
    workdir: Path | None = None,
    bad_faults: Mapping[str, Any] | None = None,
) -> Rehearsal:
    """Run the rehearsal (see the module docstring) and print its summary.

    ``bad_faults`` replaces the bad release's faults (``component.faults`` keys),
    e.g. ``{"hash_latency_ms": 3000}`` to rehearse the hash-time gate.

    The rollback is the expected outcome, so it is a result, not an exception;
    anything else that goes wrong is reported in ``problem`` (and the workspace kept).
    """
    real = clock or SystemClock()
    # The steps log into the temporary workspace, through a reporter of their own that
    # prints where the caller's does; the caller's reporter prints the summary.
    steps_reporter = Reporter(
        environ, stream=reporter.stream, err_stream=reporter.err_stream, clock=real,
        quiet=reporter.quiet,
    )  # fmt: skip
    run = RehearsalRun(private_environ(environ), steps_reporter, real, time_scale)
    run.bad_faults = dict(bad_faults or BAD_FAULTS)
    root = Path(tempfile.mkdtemp(prefix="dhash-rehearsal-", dir=workdir))
    try:
        run.execute(root / "dhash-app")
    except Exception as exc:  # reported with the workspace kept for inspection
        run.result.problem = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        steps_reporter.error(f"rehearsal failed: {run.result.problem}")
        keep = True
    finally:
        run.clean_up()
        run.result.kept = keep
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    for line in summary_lines(run.result):
        reporter.info(line, event="rehearsal_summary")
    reporter.summary(summary_markdown(run.result))
    return run.result


class RehearsalRun:
    def __init__(
        self, environ: dict[str, str], reporter: Reporter, clock: Clock, time_scale: float
    ) -> None:
        self.environ = environ
        self.reporter = reporter
        self.clock = clock
        self.time_scale = time_scale
        self.result = Rehearsal(time_scale=time_scale)
        self.ws: Workspace | None = None
        self.load: LoadGenerator | None = None
        self.started = time.monotonic()
        self.bad_faults: dict[str, Any] = dict(BAD_FAULTS)

    def mark(self, what: str) -> float:
        at = time.monotonic() - self.started
        self.result.timeline.append((at, what))
        self.reporter.info(f"[rehearsal +{at:5.1f}s] {what}", event="rehearsal_step", step=what)
        return at

    def monitor_clock(self) -> Clock:
        return ScaledClock(self.time_scale) if self.time_scale != 1.0 else self.clock

    def execute(self, target: Path) -> None:

        ws = self.ws = copy_example(target)
        self.result.workspace = ws.root
        self.reporter.attach_log(ws.log_file("rehearse", ENV, self.clock.now()))
        self.mark(f"workspace ready: {ws.root}")
        common: dict[str, Any] = {"environ": self.environ, "reporter": self.reporter}

        good = deploy(ws, ENV, clock=self.clock, no_monitor=True, **common)
        self.mark(f"good release {good.release_id} deployed and healthy")
        self.load = LoadGenerator(ws, ENV, self.environ)
        self.mark(f"traffic: load generator at {LOAD_RATE_PER_SECOND:g} requests/s")
        watched = run_monitor(
            ws,
            ENV,
            clock=self.monitor_clock(),
            action_clock=self.clock,
            duration_minutes=GOOD_MONITOR_MINUTES,
            fresh=True,
            **common,
        )
        self.mark(f"good release monitored for {GOOD_MONITOR_MINUTES:g} min (scaled): "
                  f"{watched.status}, {watched.polls} polls")  # fmt: skip
        if watched.status != "passed":
            raise RuntimeError(f"the good release did not pass monitoring ({watched.status})")

        set_faults(ws, ENV, self.bad_faults)
        bad = deploy(ws, ENV, clock=self.clock, no_monitor=True, **common)
        fault_at = self.mark(
            f"bad release {bad.release_id} deployed (faults: "
            + ", ".join(f"{k}={v}" for k, v in self.bad_faults.items())
            + ")"
        )
        monitor_started = time.monotonic() - self.started
        try:
            run_monitor(ws, ENV, clock=self.monitor_clock(), action_clock=self.clock, fresh=True,
                        **common)  # fmt: skip
        except MonitorRolledBack as rolled:
            done_at = self.mark(f"rolled back: {rolled.message}")
            self._record_detection(rolled.result, fault_at, monitor_started, done_at)
        else:
            raise RuntimeError("the monitor did not catch the bad release")
        checks = run_smoke(ws, ENV, post_rollback=True, clock=self.clock,
                           reporter=self.reporter)  # fmt: skip
        failed = [check for check in checks if not check.ok]
        if failed:
            raise RuntimeError(f"post-rollback smoke failed: {failed[0].name}: {failed[0].detail}")
        self.mark(f"post-rollback smoke tests: all {len(checks)} checks passed")
        self.result.ok = True

    def _record_detection(
        self, monitored: Any, fault_at: float, monitor_started: float, done_at: float
    ) -> None:
        trip = monitored.trips[0]
        result = self.result
        result.gate, result.value, result.threshold = trip.gate, trip.value, trip.threshold
        result.unit = trip.unit
        result.detection_polls = trip.poll
        result.detection_scaled_seconds = trip.at
        fired_at = monitor_started + trip.at / self.time_scale
        result.detection_seconds = fired_at - fault_at
        result.healthy_again_seconds = done_at - fired_at
        result.timeline.append((fired_at, f"gate {trip.gate} fired: {trip.reason}"))
        result.timeline.sort(key=lambda item: item[0])

    def clean_up(self) -> None:
        if self.load is not None:
            self.load.stop()
        if self.ws is not None:
            try:
                config = load_env_config(self.ws, ENV)
                supervisor.stop(self.ws, ENV, config, environ=self.environ, clock=self.clock,
                                reporter=self.reporter)  # fmt: skip
            except Exception as exc:  # never leave the rehearsal without saying so
                self.reporter.warning(f"could not stop the rehearsal's component: {exc}")
        self.result.total_seconds = time.monotonic() - self.started


# --- the summary (pure) --------------------------------------------------------------------
def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def summary_lines(result: Rehearsal) -> list[str]:
    lines = ["", "Rehearsal timeline (real time since start):"]
    lines += [f"  +{at:6.1f}s  {what}" for at, what in result.timeline]
    if result.gate is not None:
        unit = UNIT_SYMBOLS.get(result.unit, result.unit)
        value = "no data" if result.value is None else f"{format_number(result.value)} {unit}"
        threshold = format_number(result.threshold or 0.0)
        lines += [
            f"Gate fired: {result.gate} = {value} (threshold > {threshold} {unit})",
            f"Detection: {result.detection_polls} polls, {_seconds(result.detection_scaled_seconds)}"
            f" of monitoring (x{result.time_scale:g}); {_seconds(result.detection_seconds)} real "
            "from the bad deploy",
            f"Healthy again: {_seconds(result.healthy_again_seconds)} after the gate fired",
        ]
    verdict = "PASSED" if result.ok else f"FAILED: {result.problem or 'see above'}"
    lines.append(f"Rehearsal {verdict} in {result.total_seconds:.1f} s")
    if result.kept and result.workspace is not None:
        lines.append(f"Workspace kept for inspection: {result.workspace}")
    return lines


def summary_markdown(result: Rehearsal) -> str:
    rows = "\n".join(f"| +{at:.1f} s | {what.replace('|', '/')} |" for at, what in result.timeline)
    text = f"### dhash-gha rehearsal {'passed' if result.ok else 'FAILED'}\n\n"
    text += f"| time | step |\n|---|---|\n{rows}\n"
    if result.gate is not None:
        text += (
            f"\nGate **{result.gate}** fired at {format_number(result.value or 0.0)} "
            f"{UNIT_SYMBOLS.get(result.unit, result.unit)}; detected after "
            f"{result.detection_polls} polls ({_seconds(result.detection_seconds)} real); healthy "
            f"again {_seconds(result.healthy_again_seconds)} later.\n"
        )
    return text
