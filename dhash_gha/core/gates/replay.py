"""Gate replay: past monitor runs re-evaluated under the current and a candidate gate config.

Pure: the caller hands in log lines (``monitor_logs`` reads the files). A
monitor log holds, per run, ``event=monitor_start run=<id> env=<env>
gates_sha256=<…>``, one ``event=poll run=<id> poll=<n>`` line per poll with
the sample's fields, optionally ``event=baseline run=<id>`` with the
pre-deploy sample, and a final ``event=verdict``. A line that cannot be read
is skipped and counted — a replay never crashes on a damaged log.

Each run is replayed poll by poll with the ``IncrementalEvaluator`` (equal to
``evaluate_gates`` at every poll), so 30 days of 30-second polls take
seconds, not hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dhash_gha.core.gates.engine import baseline_value, decide, judge, limit_for
from dhash_gha.core.gates.incremental import IncrementalEvaluator
from dhash_gha.core.gates.sample import Sample, decode_sample, parse_logfmt
from dhash_gha.core.gates.spec import GateSpec

_EXAMPLES_KEPT = 5


@dataclass
class PollRecord:
    sample: Sample
    poll: int | None = None
    ts: str = ""
    recorded: dict[str, str] = field(default_factory=dict)  # gate → status the monitor logged


@dataclass
class MonitorRun:
    run_id: str
    env: str | None = None
    gates_sha256: str | None = None
    sources: list[str] = field(default_factory=list)
    polls: list[PollRecord] = field(default_factory=list)
    baseline: Sample | None = None
    outcome: str | None = None
    started: str = ""  # the monitor_start line's timestamp

    @property
    def duration(self) -> float:
        if not self.polls:
            return 0.0
        return self.polls[-1].sample.at - self.polls[0].sample.at


@dataclass
class ParsedLogs:
    runs: dict[str, MonitorRun] = field(default_factory=dict)
    lines: int = 0
    skipped: int = 0
    examples: list[str] = field(default_factory=list)  # the first few skipped lines, and why

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.examples) < _EXAMPLES_KEPT:
            self.examples.append(f"{where}: {why}")

    def run(self, run_id: str) -> MonitorRun:
        if run_id not in self.runs:
            self.runs[run_id] = MonitorRun(run_id)
        return self.runs[run_id]

    def add_lines(self, lines: Iterable[str], source: str) -> None:
        """Read one log file's lines (``source`` names it in warnings and the report)."""
        for number, line in enumerate(lines, start=1):
            text = line.strip()
            if not text:
                continue
            self.lines += 1
            where = f"{source}:{number}"
            try:
                fields = parse_logfmt(text)
            except ValueError as exc:
                self.skip(where, str(exc))
                continue
            event = fields.get("event")
            if not event:
                self.skip(where, "not a log event (no event=)")
                continue
            if event not in ("monitor_start", "poll", "baseline", "verdict"):
                continue  # other events of the monitor's log: not needed here
            run_id = fields.get("run")
            if not run_id:
                self.skip(where, f"event={event} without run=")
                continue
            run = self.run(run_id)
            if source not in run.sources:
                run.sources.append(source)
            if event == "monitor_start":
                run.started = run.started or fields.get("ts", "")
                run.env = fields.get("env") or run.env
                run.gates_sha256 = fields.get("gates_sha256") or run.gates_sha256
            elif event == "verdict":
                run.outcome = fields.get("verdict") or fields.get("result") or fields.get("status")
            else:
                try:
                    sample = decode_sample(fields)
                except (KeyError, ValueError) as exc:
                    self.skip(where, f"unreadable sample ({type(exc).__name__}: {exc})")
                    continue
                if event == "baseline":
                    run.baseline = sample
                    continue
                try:
                    poll = int(fields["poll"]) if fields.get("poll") else None
                except ValueError:
                    self.skip(where, f"poll={fields['poll']!r} is not a number")
                    continue
                recorded = {
                    key[len("gate.") :]: value
                    for key, value in fields.items()
                    if key.startswith("gate.")
                }
                run.polls.append(PollRecord(sample, poll, fields.get("ts", ""), recorded))

    def finished_runs(self, env: str | None = None) -> list[MonitorRun]:
        """Runs with polls (of ``env`` when given), polls in time order, duplicates dropped."""
        out: list[MonitorRun] = []
        for run in self.runs.values():
            if not run.polls or (env is not None and run.env not in (None, env)):
                continue
            seen: set[tuple[int | None, float]] = set()
            unique: list[PollRecord] = []
            for record in sorted(run.polls, key=lambda r: r.sample.at):
                key = (record.poll, record.sample.at)
                if key not in seen:  # a resumed monitor may log a poll twice
                    seen.add(key)
                    unique.append(record)
            run.polls = unique
            out.append(run)
        # Oldest run first, by when it started (``at`` restarts at 0 in each run).
        return sorted(out, key=lambda r: (r.started or r.polls[0].ts, r.polls[0].sample.at))


# --- re-evaluation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Firing:
    """A gate's first failing poll in a run."""

    gate: str
    action: str
    poll: int
    elapsed: float  # seconds since the run's first poll
    value: float | None
    reason: str
    ts: str = ""


@dataclass
class ConfigOutcome:
    firings: list[Firing] = field(default_factory=list)
    failed_polls: dict[str, int] = field(default_factory=dict)
    inconclusive_polls: dict[str, int] = field(default_factory=dict)
    recorded_mismatches: int = 0

    @property
    def rollback(self) -> Firing | None:
        """The first firing whose action is rollback: where the monitor would have rolled back."""
        for firing in self.firings:
            if firing.action == "rollback":
                return firing
        return None


def replay_run(run: MonitorRun, gates: Sequence[GateSpec]) -> ConfigOutcome:
    """Every gate at every poll of ``run``: first firings and per-gate counts."""
    (outcome,) = replay_configs(run, [gates])
    return outcome


def replay_configs(run: MonitorRun, configs: Sequence[Sequence[GateSpec]]) -> list[ConfigOutcome]:
    """``replay_run`` for several configs in one pass (gates measuring the same share work)."""
    every = [gate for gates in configs for gate in gates]
    owner = [index for index, gates in enumerate(configs) for _ in gates]
    outcomes = [ConfigOutcome() for _ in configs]
    evaluator = IncrementalEvaluator(every)
    baselines = [
        baseline_value(gate, run.baseline) if run.baseline is not None else None for gate in every
    ]
    limits = [limit_for(gate, base) for gate, base in zip(every, baselines, strict=True)]
    fired: list[set[str]] = [set() for _ in configs]
    start = run.polls[0].sample.at if run.polls else 0.0
    for index, record in enumerate(run.polls):
        evaluator.push(record.sample)
        measured = evaluator.measure(record.sample.at)
        for gate, m, base, limit, which in zip(
            every, measured, baselines, limits, owner, strict=True
        ):
            outcome = outcomes[which]
            status = decide(gate, m.value, limit)
            logged = record.recorded.get(gate.name)
            if logged is not None and logged != status:
                outcome.recorded_mismatches += 1
            if status == "inconclusive":
                outcome.inconclusive_polls[gate.name] = (
                    outcome.inconclusive_polls.get(gate.name, 0) + 1
                )
            if status != "fail":
                continue
            outcome.failed_polls[gate.name] = outcome.failed_polls.get(gate.name, 0) + 1
            if gate.name not in fired[which]:
                fired[which].add(gate.name)
                verdict = judge(gate, m, base)
                outcome.firings.append(
                    Firing(
                        gate=gate.name,
                        action=gate.action,
                        poll=record.poll if record.poll is not None else index + 1,
                        elapsed=record.sample.at - start,
                        value=verdict.value,
                        reason=verdict.reason,
                        ts=record.ts,
                    )
                )
    return outcomes


@dataclass
class RunReplay:
    run: MonitorRun
    current: ConfigOutcome
    candidate: ConfigOutcome | None
    change: str  # rollback avoided / rollback added / earlier / later / unchanged


def compare(current: ConfigOutcome, candidate: ConfigOutcome | None) -> str:
    if candidate is None:
        return ""
    before, after = current.rollback, candidate.rollback
    if before is None and after is None:
        return "no rollback under either"
    if before is not None and after is None:
        return "rollback avoided"
    if before is None and after is not None:
        return "rollback added"
    assert before is not None and after is not None
    if after.elapsed < before.elapsed:
        return f"rollback earlier by {after_minus(before.elapsed, after.elapsed)}"
    if after.elapsed > before.elapsed:
        return f"rollback later by {after_minus(after.elapsed, before.elapsed)}"
    return "rollback at the same poll"


def after_minus(later: float, earlier: float) -> str:
    seconds = later - earlier
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


@dataclass
class ReplayReport:
    env: str
    runs: list[RunReplay]
    files: list[str]
    lines: int
    skipped: int
    skipped_examples: list[str]
    candidate_label: str | None

    def count(self, change: str) -> int:
        return sum(1 for run in self.runs if run.change == change)

    def rollbacks(self, which: str) -> int:
        total = 0
        for run in self.runs:
            outcome = run.current if which == "current" else run.candidate
            if outcome is not None and outcome.rollback is not None:
                total += 1
        return total


def replay(
    parsed: ParsedLogs,
    env: str,
    current: Sequence[GateSpec],
    candidate: Sequence[GateSpec] | None = None,
    *,
    files: Sequence[str] = (),
    candidate_label: str | None = None,
) -> ReplayReport:
    runs: list[RunReplay] = []
    configs = [current] if candidate is None else [current, candidate]
    for run in parsed.finished_runs(env):
        outcomes = replay_configs(run, configs)
        now, then = outcomes[0], (outcomes[1] if candidate is not None else None)
        runs.append(RunReplay(run, now, then, compare(now, then)))
    return ReplayReport(
        env=env,
        runs=runs,
        files=list(files),
        lines=parsed.lines,
        skipped=parsed.skipped,
        skipped_examples=list(parsed.examples),
        candidate_label=candidate_label,
    )
