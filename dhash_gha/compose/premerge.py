"""The pre-merge run: every runbook check in one command, and the premerge_artifacts/ bundle.

Each step records pass / fail / skipped with a detail line and the run always
goes to the end, so one report shows everything that is wrong; the exit code
is 1 when any step failed. Steps that change things work on a scratch copy of
the workspace (the component is started there, on the configured port), so a
pre-merge run leaves the checkout as it found it apart from the bundle.

Bundle: the backup and its .sha256, the dry-run logs (deploy, migrate,
notification), the smoke-test and logging-validation logs, provenance.json and
summary.md.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dhash_gha.adapters.archive import create_backup, verify_backup
from dhash_gha.adapters.config import load_gates_config, validate_workspace
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.scratch import copy_workspace
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.cli import main
from dhash_gha.core.clock import Clock
from dhash_gha.core.gates.sample import parse_logfmt
from dhash_gha.core.gates.schedule import Schedule
from dhash_gha.core.gates.spec import load_gate_specs
from dhash_gha.errors import BadInput, DhashError
from dhash_gha.steps import provenance as prov

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
_ICON = {PASS: "✅", FAIL: "❌", SKIPPED: "⏭️"}
_MARKER = "summary.md"
_SERVICE_LINE = re.compile(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


@dataclass(frozen=True)
class PremergeOptions:
    env: str | None = None
    output: Path | None = None
    repo: str = ""
    branch: str = ""
    skip: frozenset[str] = frozenset()


@dataclass
class StepResult:
    name: str
    status: str
    detail: str
    log: str | None = None


@dataclass
class PremergeReport:
    env: str
    artifacts: Path
    steps: list[StepResult] = field(default_factory=list)
    backup: Path | None = None
    backup_sha256: str = ""

    @property
    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.status == FAIL]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def markdown(self) -> str:
        verdict = "passed" if not self.failed else f"failed ({len(self.failed)} step(s))"
        lines = [
            f"## dhash-gha pre-merge validation: {verdict}",
            "",
            f"Environment: `{self.env}`",
            "",
            "| step | result | detail | log |",
            "|---|---|---|---|",
        ]
        for step in self.steps:
            detail = step.detail.replace("|", "\\|").replace("\n", " ")
            log = f"`{step.log}`" if step.log else ""
            lines.append(f"| {step.name} | {_ICON[step.status]} {step.status} | {detail} | {log} |")
        return "\n".join(lines) + "\n"


class StepFailed(Exception):
    """A step's check said no (the message is the step's detail)."""

    def __init__(self, message: str, log: str | None = None) -> None:
        super().__init__(message)
        self.log = log


class StepSkipped(Exception):
    """A step that does not apply here (the message says why)."""


# --- the CLI, in-process, with its output captured into a log file ---------------------------
CliRunner = Callable[[Sequence[str], Mapping[str, str], Path], int]


def run_cli_to_log(argv: Sequence[str], environ: Mapping[str, str], log: Path) -> int:
    """Run ``dhash-gha argv`` in this process; stdout and stderr go to ``log``."""

    buffer = io.StringIO()
    quiet_env = {k: v for k, v in environ.items() if k not in ("GITHUB_OUTPUT",)}
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        code = main(list(argv), environ=quiet_env)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ dhash-gha {' '.join(argv)}\n{buffer.getvalue()}(exit code {code})\n\n")
    return code


@dataclass
class _Run:
    ws: Workspace
    env: str
    artifacts: Path
    scratch: Path
    options: PremergeOptions
    environ: Mapping[str, str]
    clock: Clock
    reporter: Reporter
    cli: CliRunner
    report: PremergeReport
    component_started: bool = False

    def cli_step(self, log_name: str, *argv: str, root: Path | None = None) -> str:
        log = self.artifacts / log_name
        code = self.cli(["--root", str(root or self.ws.root), *argv], self.environ, log)
        if code != 0:
            first = _first_problem(log)
            raise StepFailed(
                f"'dhash-gha {' '.join(argv)}' exited with {code}"
                + (f": {first}" if first else ""),
                log_name,
            )
        return log_name


def _first_problem(log: Path) -> str:
    """The first ❌ or error line of a step's log, to put in the summary."""
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for line in lines:
        text = line.strip()
        if text.startswith(("❌", "error:", "::error")):
            return text[:300]
    return ""


# --- steps -------------------------------------------------------------------------------------
def _step_config(run: _Run) -> tuple[str, str | None]:

    issues = validate_workspace(run.ws, None)
    log = run.artifacts / "config_validation.log"
    log.write_text("".join(f"{issue}\n" for issue in issues) or "configuration valid\n", "utf-8")
    if issues:
        raise StepFailed(f"{len(issues)} configuration problem(s): {issues[0]}", log.name)
    return f"all environments valid ({', '.join(run.ws.environments())})", log.name


def _step_gates(run: _Run) -> tuple[str, str | None]:

    section = load_gates_config(run.ws, run.env)
    gates = load_gate_specs(section)
    schedule = Schedule.from_config(section["schedule"])
    polls = len(schedule.poll_times())
    names = ", ".join(g.name for g in gates)
    return f"{len(gates)} gate(s) ({names}); {polls} polls scheduled", None


def _step_backup(run: _Run) -> tuple[str, str | None]:

    result = create_backup(run.ws, run.env, clock=run.clock, reporter=run.reporter)
    verify_backup(result.path)
    sidecar = Workspace.sidecar(result.path)
    for source in (result.path, sidecar):
        shutil.copy2(source, run.artifacts / source.name)
    run.report.backup = run.artifacts / result.path.name
    run.report.backup_sha256 = result.sha256
    return f"{result.path.name} ({result.files} files, sha256 {result.sha256[:12]}…) verified", (
        result.path.name
    )


def _step_deploy_dry_run(run: _Run) -> tuple[str, str | None]:
    log = run.cli_step("deploy_dry_run.log", "deploy", "--env", run.env, "--dry-run")
    return "plan printed, nothing changed", log


def _step_migrate_dry_run(run: _Run) -> tuple[str, str | None]:
    log = run.cli_step(
        "migrate_dry_run.log", "migrate", "--env", run.env, "--type", "forward", "--dry-run"
    )
    return "forward plan printed, nothing changed", log


def _step_smoke(run: _Run) -> tuple[str, str | None]:
    """Deploy the tree on a scratch copy (no monitor), then the post-deploy smoke tests."""
    run.cli_step("smoke_deploy.log", "deploy", "--env", run.env, "--no-monitor", root=run.scratch)
    run.component_started = True
    log = run.cli_step(
        "smoke_test.log", "smoke", "--env", run.env, "--post-deploy", root=run.scratch
    )
    return "component started on a scratch copy; smoke tests (golden validation) passed", log


def validate_log_lines(service_lines: Sequence[str], tool_lines: Sequence[str]) -> list[str]:
    """Problems with the logs' format (pure): the runbook's grep commands must keep working."""
    problems: list[str] = []
    if not service_lines:
        problems.append("the component wrote no service log line")
    for number, line in enumerate(service_lines, 1):
        if line.strip() and not _SERVICE_LINE.search(line):
            problems.append(f"service log line {number} has no level: {line[:80]!r}")
    if service_lines and not any("hash_time=" in line for line in service_lines):
        problems.append("no 'hash_time=' line in the service log (grep hash_time finds nothing)")

    for number, line in enumerate(tool_lines, 1):
        if not line.strip():
            continue
        try:
            fields = parse_logfmt(line)
        except ValueError as exc:
            problems.append(f"tool log line {number} is not logfmt: {exc}")
            continue
        missing = [k for k in ("ts", "level", "event") if k not in fields]
        if missing:
            problems.append(f"tool log line {number} lacks {', '.join(missing)}")
    return problems


def _step_logging(run: _Run) -> tuple[str, str | None]:
    logs = Workspace(run.scratch).logs_dir
    if not run.component_started or not logs.is_dir():
        raise StepSkipped("no component ran (the smoke step did not start it)")
    service: list[str] = []
    tool: list[str] = []
    for path in sorted(logs.glob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        (service if path.name.startswith(f"dhash_{run.env}_") else tool).extend(lines)
    problems = validate_log_lines(service, tool)
    log = run.artifacts / "logging_validation.log"
    body = [f"service log lines: {len(service)}", f"tool log lines: {len(tool)}", *problems]
    log.write_text("\n".join(body) + "\n", encoding="utf-8")
    if problems:
        raise StepFailed(f"{len(problems)} log format problem(s): {problems[0]}", log.name)
    return f"{len(service)} service and {len(tool)} tool log lines well-formed", log.name


def _step_notify(run: _Run) -> tuple[str, str | None]:
    log = run.cli_step(
        "notification_dry_run.log",
        "notify",
        "--type",
        "test",
        "--env",
        run.env,
        "--message",
        "dhash-gha pre-merge notification dry-run",
        "--dry-run",
    )
    return "rendered for every channel, nothing sent", log


def _step_protection(run: _Run) -> tuple[str, str | None]:
    token = run.environ.get("GITHUB_TOKEN", "").strip() or run.environ.get("GH_TOKEN", "").strip()
    if not token:
        run.reporter.warning(
            "branch protection not verified: no GitHub token (fork pull requests get no secrets)",
            title="premerge",
        )
        raise StepSkipped("no token (e.g. a fork pull request): protection not verified")
    if not run.options.repo or not run.options.branch:
        raise StepSkipped("no --repo/--branch given: protection not verified")
    log = run.cli_step(
        "protection_verify.log",
        "protection",
        "verify",
        "--repo",
        run.options.repo,
        "--branch",
        run.options.branch,
        # The workflow token usually cannot read classic protection (admin only): judge what
        # it can see, list the rest as not checked, and fail only on a proven violation.
        "--allow-unchecked",
    )
    return (
        f"{run.options.repo}@{run.options.branch}: no violation the token can see "
        "(settings it could not read are listed in the log)",
        log,
    )


STEPS: tuple[tuple[str, Callable[[_Run], tuple[str, str | None]]], ...] = (
    ("config", _step_config),
    ("gates", _step_gates),
    ("backup", _step_backup),
    ("deploy-dry-run", _step_deploy_dry_run),
    ("migrate-dry-run", _step_migrate_dry_run),
    ("smoke", _step_smoke),
    ("logging", _step_logging),
    ("notify-dry-run", _step_notify),
    ("protection", _step_protection),
)
STEP_NAMES = tuple(name for name, _ in STEPS)


def _execute(run: _Run, name: str, step: Callable[[_Run], tuple[str, str | None]]) -> StepResult:
    if name in run.options.skip:
        return StepResult(name, SKIPPED, "skipped with --skip")
    try:
        detail, log = step(run)
        return StepResult(name, PASS, detail, log)
    except StepSkipped as exc:
        return StepResult(name, SKIPPED, str(exc))
    except StepFailed as exc:
        return StepResult(name, FAIL, str(exc), exc.log)
    except DhashError as exc:
        return StepResult(name, FAIL, exc.message + (f" ({exc.tip})" if exc.tip else ""))
    except ImportError as exc:
        return StepResult(name, FAIL, f"not available in this installation: {exc}")
    except Exception as exc:
        return StepResult(name, FAIL, f"internal error: {type(exc).__name__}: {exc}")


# --- workspace handling ------------------------------------------------------------------------
def pick_env(ws: Workspace, requested: str | None) -> str:
    known = ws.environments()
    if requested:
        if requested not in known:
            raise BadInput(
                f"unknown environment '{requested}': known environments are "
                f"{', '.join(known) or 'none'}",
                tip="pass --env with one of them",
            )
        return requested
    if not known:
        raise BadInput(
            f"{ws.root} has no config/{{env}}/dhash.json",
            tip="run premerge from a workspace root, or 'dhash-gha init' to create one",
        )
    return "staging" if "staging" in known else known[0]


def prepare_artifacts(path: Path) -> Path:
    """An empty bundle directory; an existing one is replaced only if it is an old bundle."""
    if path.exists():
        if not path.is_dir():
            raise BadInput(f"artifacts path {path} is a file", tip="pass --output DIR")
        entries = list(path.iterdir())
        if entries and not (path / _MARKER).exists():
            raise BadInput(
                f"{path} is not empty and is not an earlier pre-merge bundle",
                tip="pass --output with a new or empty directory",
            )
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


@contextlib.contextmanager
def scratch_copy(ws: Workspace) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dhash-premerge-") as tmp:
        target = Path(tmp) / "ws"
        copy_workspace(ws.root, target)
        yield target


def _stop_component(run: _Run) -> None:
    if run.component_started:
        run.cli(
            ["--root", str(run.scratch), "service", "stop", "--env", run.env],
            run.environ,
            run.artifacts / "smoke_deploy.log",
        )


def _provenance(run: _Run, started_at: object) -> StepResult:
    from datetime import datetime

    assert isinstance(started_at, datetime)
    try:
        subjects = prov.collect_subjects(
            sorted(p for p in run.artifacts.iterdir() if p.is_file()), run.artifacts
        )
        statement = prov.build_statement(
            subjects,
            prov.Invocation.from_environ(run.environ),
            git_commit=prov.git_commit(run.ws.root, run.environ),
            tools=prov.tool_versions(prov.ffmpeg_version()),
            started=started_at,
            finished=run.clock.now(),
            parameters={"environment": run.env, "command": "premerge"},
        )
        prov.write_json_atomic(run.artifacts / "provenance.json", statement)
        return StepResult("provenance", PASS, f"{len(subjects)} subject(s)", "provenance.json")
    except Exception as exc:
        return StepResult("provenance", FAIL, f"{type(exc).__name__}: {exc}")


def run_premerge(
    ws: Workspace,
    options: PremergeOptions,
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    cli: CliRunner = run_cli_to_log,
) -> PremergeReport:
    env = pick_env(ws, options.env)
    unknown = sorted(set(options.skip) - set(STEP_NAMES))
    if unknown:
        raise BadInput(
            f"unknown step(s) to skip: {', '.join(unknown)}",
            tip=f"steps are: {', '.join(STEP_NAMES)}",
        )
    artifacts = prepare_artifacts(options.output or ws.root / "premerge_artifacts")
    reporter.attach_log(ws.log_file("premerge", env, clock.now()))
    started = clock.now()
    report = PremergeReport(env, artifacts)
    with scratch_copy(ws) as scratch:
        run = _Run(ws, env, artifacts, scratch, options, environ, clock, reporter, cli, report)
        try:
            for name, step in STEPS:
                with reporter.group(f"premerge: {name}"):
                    result = _execute(run, name, step)
                report.steps.append(result)
                _announce(reporter, result)
        finally:
            _stop_component(run)
    provenance = _provenance(run, started)
    report.steps.append(provenance)
    _announce(reporter, provenance)
    summary = report.markdown()
    (artifacts / _MARKER).write_text(summary, encoding="utf-8")
    reporter.summary(summary)
    reporter.set_output("result", "success" if not report.failed else "failure")
    reporter.set_output("exit-code", str(report.exit_code))
    reporter.set_output("artifacts-dir", str(artifacts))
    reporter.set_output("backup-path", str(report.backup) if report.backup else "")
    reporter.set_output("backup-sha256", report.backup_sha256)
    reporter.set_output("provenance-path", str(artifacts / "provenance.json"))
    return report


def _announce(reporter: Reporter, result: StepResult) -> None:
    text = f"{_ICON[result.status]} {result.name}: {result.detail}"
    fields = {"step": result.name, "status": result.status}
    if result.status == FAIL:
        reporter.error(text, title=f"premerge {result.name}")
    else:
        reporter.info(text, event="premerge_step", **fields)
