"""The monitor: poll the sources on the schedule, judge the gates, act on a failure.

Each poll collects one sample from every source, evaluates every gate over all
samples of the run so far, writes one poll line to the monitor log, saves the
state, and then acts: roll back (exit 3), notify an alert, or log a dry-run.
A monitor killed and started again resumes the same run — same run id, same
schedule measured from the original start, windows that include the samples
taken before the restart — as long as the release, the gates and the duration
are unchanged and the run has not expired.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dhash_gha.adapters.config import load_env_config, load_gates_config
from dhash_gha.adapters.monitoring.poll_log import (
    MonitorLog,
    format_value,
    logged_but_unsaved,
    poll_fields,
    verdict_fields,
)
from dhash_gha.adapters.monitoring.state import RUNNING, MonitorState, load_state, save_state
from dhash_gha.adapters.releases import read_release
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.sources.factory import HASH_TIME_HISTOGRAM, build_sources
from dhash_gha.adapters.sources.interface import MetricSource, collect_sample
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock, iso_utc, utc_stamp
from dhash_gha.core.gates.decision import decide
from dhash_gha.core.gates.engine import (
    GateVerdict,
    evaluate_gates,
    in_time_order,
    measure,
    window_of,
)
from dhash_gha.core.gates.sample import Sample, encode_sample
from dhash_gha.core.gates.schedule import Schedule
from dhash_gha.core.gates.spec import GateSpec, gates_sha256, load_gate_specs
from dhash_gha.errors import BadInput, RollbackFailed, RollbackPerformed
from dhash_gha.steps.monitor.progress import Progress, ProgressView
from dhash_gha.steps.monitor.responses import MonitorActions, Responder, RollbackOutcome

# How long between redraws of a terminal's progress while waiting (real seconds).
TERMINAL_TICK_SECONDS = 1.0
# The poll line's hash_time_p95_ms when no gate watches the hash-time histogram.
_HASH_TIME_P95 = GateSpec(
    name="hash_time_p95",
    kind="histogram_quantile",
    source="metrics",
    threshold=math.inf,
    unit="ms",
    window_seconds=900,
    action="dry-run",
    min_samples=2,
    no_data="ignore",
    metric=HASH_TIME_HISTOGRAM,
    quantile=0.95,
)


@dataclass(frozen=True)
class Trip:
    """A gate's first failure in a run."""

    gate: str
    action: str
    value: float | None
    threshold: float
    unit: str
    reason: str
    poll: int
    at: float
    wall_time: str


@dataclass(frozen=True)
class MonitorResult:
    run_id: str
    env: str
    status: str  # passed | failed (a rollback gate failed under --no-rollback) | rolled_back
    polls: int
    elapsed: float
    verdicts: tuple[GateVerdict, ...]
    trips: tuple[Trip, ...]
    log_path: Path
    resumed: bool
    rollback: RollbackOutcome | None = None


class MonitorRolledBack(RollbackPerformed):
    """A gate failed and the release was rolled back (exit 3); ``result`` says what happened."""

    def __init__(self, message: str, *, result: MonitorResult, tip: str | None = None) -> None:
        super().__init__(message, tip=tip)
        self.result = result


class MonitorRollbackFailed(RollbackFailed):
    """A gate failed and the rollback did not complete (exit 4)."""

    def __init__(self, message: str, *, result: MonitorResult, tip: str | None = None) -> None:
        super().__init__(message, tip=tip)
        self.result = result


def next_due(times: Sequence[float], last_poll_at: float | None) -> float | None:
    """The first scheduled poll after the last one made (the first poll when none was)."""
    for t in times:
        if last_poll_at is None or t > last_poll_at + 1e-6:
            return t
    return None


def hash_time_spec(gates: Sequence[GateSpec]) -> GateSpec:
    for gate in gates:
        if (gate.kind, gate.source, gate.metric, gate.quantile) == (
            "histogram_quantile",
            "metrics",
            HASH_TIME_HISTOGRAM,
            0.95,
        ):
            return gate
    return _HASH_TIME_P95


def hash_time_p95_ms(
    gates: Sequence[GateSpec], samples: Sequence[Sample], now: float
) -> float | None:
    spec = hash_time_spec(gates)
    return measure(spec, window_of(in_time_order(samples), now, spec.window_seconds)).value


@dataclass
class Monitor:
    ws: Workspace
    env: str
    environ: Mapping[str, str]
    clock: Clock
    reporter: Reporter
    duration_minutes: float | None = None
    no_rollback: bool = False
    fresh: bool = False
    baseline: Sample | None = None
    sources: Sequence[MetricSource] | None = None
    actions: MonitorActions = field(default_factory=MonitorActions)
    progress: Progress | None = None
    gates_path: Path | None = None
    # The rollback, notifications and incident keep real time even when the schedule is
    # compressed (--time-scale): a rollback's health deadlines must not shrink with it.
    action_clock: Clock | None = None

    # --- set-up ----------------------------------------------------------------------------
    def _configure(self) -> None:
        section = load_gates_config(self.ws, self.env, self.gates_path)
        self.gates = load_gate_specs(section)
        schedule = Schedule.from_config(section["schedule"])
        if self.duration_minutes is not None:
            schedule = schedule.with_duration(self.duration_minutes)
        self.schedule = schedule
        self.times = schedule.poll_times()
        self.sha = gates_sha256(section)
        env_config = load_env_config(self.ws, self.env)
        if self.sources is None:
            self.sources = build_sources(
                self.ws, self.env, env_config, section["gates"], self.environ
            )
        for source in self.sources:
            password = urlsplit(str(getattr(source, "base_url", ""))).password
            if password:
                self.reporter.mask(password)

        self.release = read_release(self.ws, self.env)
        self.release_id = str(self.release["release_id"]) if self.release else None

    @contextmanager
    def _single_monitor(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        path = self.ws.monitor_state(self.env)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path.with_name(path.name + ".lock")))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise BadInput(
                f"a monitor is already running for '{self.env}'",
                tip="wait for it to finish, or stop it; a monitor started again resumes its run",
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _load_or_start(self) -> tuple[MonitorState, bool]:
        path = self.ws.monitor_state(self.env)
        previous: MonitorState | None = None
        try:
            previous = load_state(path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            self.reporter.warning(f"monitor state {path} is unreadable ({exc}); starting a new run")
        if previous is not None and not self.fresh:
            why_not = self._why_not_resume(previous)
            if why_not is None:
                return previous, True
            if previous.status == RUNNING:
                self.reporter.info(f"not resuming monitor run {previous.run_id}: {why_not}")
        now = self.clock.now()
        run_id = f"{utc_stamp(now)}-{secrets.token_hex(3)}"
        log_path = self.ws.log_file("monitor", self.env, now)
        state = MonitorState(
            run_id=run_id,
            env=self.env,
            started_at=now,
            gates_sha256=self.sha,
            duration_seconds=self.schedule.duration_seconds,
            log_file=log_path.relative_to(self.ws.root).as_posix(),
            release_id=self.release_id,
            baseline=self.baseline,
        )
        return state, False

    def _why_not_resume(self, state: MonitorState) -> str | None:
        if state.status != RUNNING:
            return f"it ended ({state.status})"
        if state.env != self.env:
            return "it watched another environment"
        if state.gates_sha256 != self.sha:
            return "the gates configuration changed"
        if abs(state.duration_seconds - self.schedule.duration_seconds) > 1e-6:
            return "the duration changed"
        if state.release_id != self.release_id:
            return f"the release changed ({state.release_id} → {self.release_id})"
        elapsed = state.elapsed(self.clock.now())
        grace = max(phase.interval_seconds for phase in self.schedule.phases)
        if elapsed < 0 or elapsed > state.duration_seconds + grace:
            return "it expired"
        return None

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> MonitorResult:
        self._configure()
        with self._single_monitor():
            state, resumed = self._load_or_start()
            return self._run(state, resumed)

    def _view(
        self, state: MonitorState, verdicts: Sequence[GateVerdict], errors: Mapping[str, str]
    ) -> ProgressView:
        elapsed = state.elapsed(self.clock.now())
        due = next_due(self.times, state.last_poll_at)
        index = self.schedule.phase_index(state.last_poll_at or 0.0)
        interval = self.schedule.phases[index].interval_seconds
        return ProgressView(
            env=self.env,
            run_id=state.run_id,
            poll=state.polls,
            planned_polls=len(self.times),
            elapsed=elapsed,
            duration=state.duration_seconds,
            phase=f"phase {index + 1}/{len(self.schedule.phases)} every {interval:g} s",
            next_poll_in=None if due is None else max(0.0, due - elapsed),
            verdicts=tuple(verdicts),
            errors=dict(errors),
            poll_at=state.last_poll_at or 0.0,
        )

    def _redacted(self, sample: Sample) -> Sample:
        """The sample with secrets the reporter knows removed from its error texts."""
        if not sample.errors:
            return sample
        errors = {source: self.reporter.redact(text) for source, text in sample.errors.items()}
        return Sample(sample.at, sample.values, errors)

    def _wait_until(
        self,
        due: float,
        state: MonitorState,
        progress: Progress,
        verdicts: Sequence[GateVerdict],
        errors: Mapping[str, str],
    ) -> None:
        while True:
            remaining = due - state.elapsed(self.clock.now())
            if remaining <= 0:
                return
            # Redraw about once a real second, whatever the clock's time scale.
            tick = TERMINAL_TICK_SECONDS * float(getattr(self.clock, "scale", 1.0))
            step = min(remaining, tick) if progress.redraw else remaining
            self.clock.sleep(step)
            progress.waiting(self._view(state, verdicts, errors))

    def _run(self, state: MonitorState, resumed: bool) -> MonitorResult:
        log_path = self.ws.root / state.log_file
        if self.reporter.log_path is None:
            self.reporter.attach_log(log_path)
        log = MonitorLog(log_path, self.reporter, self.clock)
        responder = Responder(
            ws=self.ws,
            env=self.env,
            environ=self.environ,
            clock=self.action_clock or self.clock,
            reporter=self.reporter,
            log=log,
            run_id=state.run_id,
            release=self.release,
            actions=self.actions,
        )
        progress = self.progress or Progress(self.reporter)
        if resumed:
            state.samples.extend(logged_but_unsaved(log_path, state.run_id, state.polls))
            log.write({"event": "monitor_resume", "run": state.run_id, "poll": state.polls})
            self.reporter.info(
                f"resuming monitor run {state.run_id} for {self.env} after poll {state.polls} "
                f"(log {state.log_file})"
            )
        else:
            log.write(
                {
                    "event": "monitor_start",
                    "run": state.run_id,
                    "env": self.env,
                    "gates_sha256": state.gates_sha256,
                    "release": state.release_id or "",
                    "duration_s": format_value(state.duration_seconds),
                    "polls_planned": len(self.times),
                    "gates": ",".join(gate.name for gate in self.gates),
                }
            )
            if state.baseline is not None:
                log.write(
                    {"event": "baseline", "run": state.run_id, **encode_sample(state.baseline)}
                )
            self.reporter.info(
                f"monitoring {self.env} for {state.duration_seconds / 60:g} min "
                f"({'; '.join(self.schedule.describe())}); run {state.run_id}, log {state.log_file}"
            )
        save_state(self.ws.monitor_state(self.env), state)
        trips = [Trip(**item) for item in state.trips]
        verdicts: list[GateVerdict] = []
        errors: dict[str, str] = {}
        if resumed and state.samples and not self.no_rollback:
            # Killed after a saved poll decided to roll back, before the rollback ran: do
            # it now, even when no poll is left in the schedule to decide it again.
            verdicts = evaluate_gates(
                self.gates, state.samples, now=state.samples[-1].at, baseline=state.baseline
            )
            fired = [verdict for verdict in verdicts if verdict.triggers_rollback]
            if fired:
                return self._roll_back(state, resumed, verdicts, trips, fired, responder, log)
        assert self.sources is not None
        while (due := next_due(self.times, state.last_poll_at)) is not None:
            self._wait_until(due, state, progress, verdicts, errors)
            at = state.elapsed(self.clock.now())
            sample = self._redacted(collect_sample(self.sources, at=at))
            errors = dict(sample.errors)
            state.samples.append(sample)
            verdicts = evaluate_gates(self.gates, state.samples, now=at, baseline=state.baseline)
            p95 = hash_time_p95_ms(self.gates, state.samples, at)
            log.write(poll_fields(state.run_id, state.polls, sample, verdicts, p95))
            decision = decide(verdicts, state.failing, no_rollback=self.no_rollback)
            for verdict in verdicts:
                if verdict.status == "fail" and verdict.name not in state.failing:
                    trip = Trip(
                        verdict.name,
                        verdict.action,
                        verdict.value,
                        verdict.threshold,
                        verdict.unit,
                        verdict.reason,
                        state.polls,
                        at,
                        iso_utc(self.clock.now()),
                    )
                    if all(t.gate != trip.gate for t in trips):
                        trips.append(trip)
            # A gate counts as already failing (not to be notified again) only once its
            # notification went out: a monitor killed while notifying alerts again when
            # resumed, rather than never.
            pending = {v.name for v in (*decision.notify, *decision.would_roll_back)}
            state.failing = [name for name in decision.failing if name not in pending]
            _store_trips(state, trips)
            save_state(self.ws.monitor_state(self.env), state)
            progress.polled(self._view(state, verdicts, errors))
            if decision.rolls_back:
                progress.interrupt()
                return self._roll_back(
                    state, resumed, verdicts, trips, decision.rollback, responder, log
                )
            for verdict in decision.notify:
                progress.interrupt()
                responder.alert(verdict, instead_of_rollback=verdict.action == "rollback")
            for verdict in decision.would_roll_back:
                progress.interrupt()
                responder.would_roll_back(verdict)
            if pending:
                state.failing = list(decision.failing)
                save_state(self.ws.monitor_state(self.env), state)
        failed = [t for t in trips if t.action == "rollback"]
        state.status = "failed" if failed else "passed"
        inconclusive = [v.name for v in verdicts if v.status == "inconclusive"]
        if inconclusive:
            self.reporter.warning(f"gates without a verdict at the end: {', '.join(inconclusive)}")
        if failed:
            self.reporter.error(
                f"monitoring of {self.env} ended; gate(s) {', '.join(t.gate for t in failed)} "
                "failed and were not rolled back (--no-rollback)"
            )
        else:
            self.reporter.info(
                f"monitoring of {self.env} passed: {state.polls} polls, run {state.run_id}"
            )
        self._finish(state, log, verdicts)
        return self._result(state, resumed, verdicts, trips, log_path)

    def _roll_back(
        self,
        state: MonitorState,
        resumed: bool,
        verdicts: Sequence[GateVerdict],
        trips: Sequence[Trip],
        fired: Sequence[GateVerdict],
        responder: Responder,
        log: MonitorLog,
    ) -> MonitorResult:
        try:
            outcome = responder.roll_back(fired)
        except RollbackFailed as exc:
            state.status = "rollback_failed"
            result = self._result(state, resumed, verdicts, trips, log.path)
            self._finish(state, log, verdicts)
            raise MonitorRollbackFailed(exc.message, result=result, tip=exc.tip) from exc
        state.status = "rolled_back"
        result = self._result(state, resumed, verdicts, trips, log.path, outcome)
        self._finish(state, log, verdicts)
        incident = getattr(outcome.incident, "id", None)
        raise MonitorRolledBack(
            f"{self.env} was rolled back to {outcome.backup}: {outcome.reason}"
            + (f" (incident {incident})" if incident else ""),
            result=result,
            tip="see the incident report and the monitor log "
            f"{state.log_file}; fix the release before deploying again",
        )

    def _finish(
        self, state: MonitorState, log: MonitorLog, verdicts: Sequence[GateVerdict]
    ) -> None:
        save_state(self.ws.monitor_state(self.env), state)
        log.write(
            {
                "event": "verdict",
                "run": state.run_id,
                "status": state.status,
                "polls": state.polls,
                **verdict_fields(verdicts),
            },
            level="INFO" if state.status == "passed" else "ERROR",
        )

    def _result(
        self,
        state: MonitorState,
        resumed: bool,
        verdicts: Sequence[GateVerdict],
        trips: Sequence[Trip],
        log_path: Path,
        rollback: RollbackOutcome | None = None,
    ) -> MonitorResult:
        return MonitorResult(
            run_id=state.run_id,
            env=self.env,
            status=state.status,
            polls=state.polls,
            elapsed=state.last_poll_at or 0.0,
            verdicts=tuple(verdicts),
            trips=tuple(trips),
            log_path=log_path,
            resumed=resumed,
            rollback=rollback,
        )


def _store_trips(state: MonitorState, trips: Sequence[Trip]) -> None:
    state.trips = [asdict(trip) for trip in trips]


def run_monitor(
    ws: Workspace,
    env: str,
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    duration_minutes: float | None = None,
    no_rollback: bool = False,
    fresh: bool = False,
    baseline: Sample | None = None,
    sources: Sequence[MetricSource] | None = None,
    actions: MonitorActions | None = None,
    action_clock: Clock | None = None,
) -> MonitorResult:
    """Monitor ``env`` on its schedule; returns when it ends without a rollback.

    Raises ``MonitorRolledBack`` (a ``RollbackPerformed``, exit 3) after an automatic
    rollback and ``MonitorRollbackFailed`` (a ``RollbackFailed``, exit 4) when the
    rollback failed; ``fresh`` starts a new run even when one could be resumed
    (a new deploy); ``baseline`` is the pre-deploy sample for relative gates;
    ``action_clock`` (default ``clock``) times the rollback when ``clock`` is scaled.
    """
    return Monitor(
        ws,
        env,
        environ=environ,
        clock=clock,
        reporter=reporter,
        duration_minutes=duration_minutes,
        no_rollback=no_rollback,
        fresh=fresh,
        baseline=baseline,
        sources=sources,
        actions=actions or MonitorActions(),
        action_clock=action_clock,
    ).run()
