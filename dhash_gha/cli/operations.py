"""Operations on an environment: preflight, deploy, migrate, smoke, rollback, service."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command, add_env
from dhash_gha.cli._index import summary

if TYPE_CHECKING:
    from pathlib import Path

    from dhash_gha.adapters.workspace import Workspace
    from dhash_gha.context import Context
    from dhash_gha.errors import BadInput


def register(subparsers: Any) -> None:
    preflight = add_command(
        subparsers,
        "preflight",
        summary("preflight"),
        _preflight,
    )
    add_env(preflight)
    preflight.add_argument("--json", action="store_true", help="print results as JSON")

    deploy = add_command(
        subparsers,
        "deploy",
        summary("deploy"),
        _deploy,
    )
    add_env(deploy)
    deploy.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    deploy.add_argument("--no-backup", action="store_true", help="skip the pre-deploy backup")
    deploy.add_argument("--no-monitor", action="store_true", help="do not monitor after deploy")
    _add_wait_lock(deploy)
    deploy.add_argument(
        "--skip-preflight",
        action="append",
        default=[],
        metavar="CHECK",
        help="deploy even though this preflight check fails (logged; repeatable)",
    )

    migrate = add_command(subparsers, "migrate", summary("migrate"), _migrate)
    add_env(migrate)
    migrate.add_argument("--type", choices=["forward", "backward"], required=True)
    migrate.add_argument("--to", metavar="VERSION", help="target version (default: all / one)")
    migrate.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    _add_wait_lock(migrate)

    smoke = add_command(subparsers, "smoke", summary("smoke"), _smoke)
    add_env(smoke)
    phase = smoke.add_mutually_exclusive_group(required=True)
    phase.add_argument("--post-deploy", action="store_true")
    phase.add_argument("--post-rollback", action="store_true")
    smoke.add_argument("--output", metavar="FILE", help="also append the results to FILE")
    smoke.add_argument("--json", action="store_true", help="print results as JSON")

    rollback = add_command(subparsers, "rollback", summary("rollback"), _rollback)
    add_env(rollback)
    rollback.add_argument("--backup", default="latest", metavar="PATH|latest")
    rollback.add_argument("--force", action="store_true", help="do not ask for confirmation")
    _add_wait_lock(rollback)
    rollback.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    rollback.add_argument(
        "--reason",
        default="manual rollback",
        metavar="TEXT",
        help="why: recorded in the history and sent with the rollback notification",
    )
    rollback.add_argument(
        "--unverified",
        action="store_true",
        help="allow restoring a manual .tar.gz backup that has no sidecar (logged)",
    )

    service = add_command(subparsers, "service", summary("service"), _service)
    service.add_argument("action", choices=["start", "stop", "status"])
    add_env(service)


def _add_wait_lock(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait-lock",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when another command holds the environment's lock, wait up to SECONDS for it "
        "(saying who holds it) instead of refusing at once",
    )


def _known_environment(ctx: Context, env: str) -> Workspace:
    """The workspace, once ``env`` is known to exist (else exit 2 before any file is written)."""
    from dhash_gha.adapters.config import validate_workspace

    ws = ctx.workspace()
    validate_workspace(ws, env)  # raises ConfigError listing the known environments
    return ws


def _preflight(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.core.checklist import as_json, as_markdown, failed
    from dhash_gha.steps.preflight import run_preflight

    ws = _known_environment(ctx, args.env)
    ctx.reporter.attach_log(ws.log_file("preflight", args.env, ctx.clock.now()))
    results = run_preflight(
        ws, args.env, environ=ctx.environ, clock=ctx.clock, reporter=ctx.reporter
    )
    if args.json:
        ctx.reporter.info(as_json(results, environment=args.env))
    else:
        for result in results:
            ctx.reporter.info(
                result.line(), event="preflight_check", check=result.name, ok=result.ok
            )
    ctx.reporter.summary(as_markdown(f"Preflight: {args.env}", results))
    bad = failed(results)
    if bad:
        ctx.reporter.error(
            f"preflight: {len(bad)} check(s) failed: {', '.join(r.name for r in bad)}"
        )
        return 1
    return 0


def _deploy(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.steps.deploy import deploy

    result = deploy(
        ctx.workspace(),
        args.env,
        environ=ctx.environ,
        clock=ctx.clock,
        reporter=ctx.reporter,
        dry_run=args.dry_run,
        no_backup=args.no_backup,
        no_monitor=args.no_monitor,
        skip_preflight=args.skip_preflight,
        lock_wait=args.wait_lock,
    )
    if not result.dry_run:
        ctx.reporter.summary(
            f"### Deployed `{result.release_id}` to `{args.env}`\n\n"
            f"- pre-deploy backup: `{result.pre_deploy_backup}`\n"
            f"- migration version: `{result.migration_version}`"
        )
    return 0


def _migrate(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.config import load_env_config
    from dhash_gha.adapters.migrations import command_timeout, migrate

    ws = ctx.workspace()
    config = load_env_config(ws, args.env)  # an unknown environment lists the known ones
    if args.dry_run:
        migrate(
            ws,
            args.env,
            args.type,
            to=args.to,
            dry_run=True,
            clock=ctx.clock,
            reporter=ctx.reporter,
        )
        return 0
    from dhash_gha.adapters.lock import environment_lock

    ctx.reporter.attach_log(ws.log_file("migrate", args.env, ctx.clock.now()))
    with environment_lock(
        ws, args.env, "migrate", clock=ctx.clock, wait_seconds=args.wait_lock, reporter=ctx.reporter
    ):
        migrate(
            ws,
            args.env,
            args.type,
            to=args.to,
            clock=ctx.clock,
            reporter=ctx.reporter,
            timeout=command_timeout(config),
        )
    return 0


def _smoke(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from dhash_gha.core.checklist import as_json, as_markdown, failed
    from dhash_gha.steps.smoke import append_output, run_smoke

    ws = _known_environment(ctx, args.env)
    output = None
    if args.output:
        output = Path(args.output) if Path(args.output).is_absolute() else Path.cwd() / args.output
        if output.is_dir() or any(p.exists() and not p.is_dir() for p in output.parents):
            raise _unwritable_smoke_output(output, "a directory, or under a file")
    ctx.reporter.attach_log(ws.log_file("smoke_test", args.env, ctx.clock.now()))
    phase = "post-rollback" if args.post_rollback else "post-deploy"
    results = run_smoke(
        ws, args.env, post_rollback=args.post_rollback, clock=ctx.clock, reporter=ctx.reporter
    )
    if args.json:
        ctx.reporter.info(as_json(results, environment=args.env, phase=phase))
    else:
        for result in results:
            ctx.reporter.info(result.line(), event="smoke_check", check=result.name, ok=result.ok)
    ctx.reporter.summary(as_markdown(f"Smoke tests ({phase}): {args.env}", results))
    if output is not None:
        try:
            append_output(output, phase, args.env, results)
        except OSError as exc:
            raise _unwritable_smoke_output(output, str(exc.strerror or exc)) from None
    bad = failed(results)
    if bad:
        ctx.reporter.error(
            f"smoke {phase}: {len(bad)} check(s) failed: {', '.join(r.name for r in bad)}"
        )
        return 1
    ctx.reporter.info(f"smoke {phase}: all {len(results)} checks passed")
    return 0


def _unwritable_smoke_output(output: Path, why: str) -> BadInput:
    from dhash_gha.errors import BadInput

    return BadInput(
        f"cannot append the smoke results to --output {output}: {why}",
        tip="pass --output FILE: a file path in a writable directory",
    )


def _ask(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _rollback(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from dhash_gha.steps.rollback import rollback

    ws = ctx.workspace()
    backup = args.backup
    given = Path(backup)
    if backup != "latest" and not given.is_absolute() and not (ws.root / given).exists():
        # a path relative to where the operator stands (the library resolves against the root)
        backup = str(given.resolve()) if given.exists() else backup
    try:
        result = rollback(
            ws,
            args.env,
            backup=backup,
            environ=ctx.environ,
            clock=ctx.clock,
            reporter=ctx.reporter,
            force=args.force,
            dry_run=args.dry_run,
            unverified=args.unverified,
            lock_wait=args.wait_lock,
            confirm=_ask if ctx.interactive else None,
            reason=args.reason,
        )
    except KeyboardInterrupt:
        if not args.dry_run:
            import shlex

            again = ["dhash-gha", "rollback", "--env", args.env, "--backup", backup, "--force"]
            ctx.reporter.error(
                f"rollback of '{args.env}' interrupted: the component may be stopped"
            )
            ctx.reporter.tip(
                f"run the same command again: {shlex.join(again)} (an interrupted restore "
                "completes on the next run)"
            )
        raise
    if not result.dry_run:
        ctx.reporter.summary(
            f"### Rolled `{args.env}` back\n\n- backup: `{result.backup.name}`\n"
            f"- release: `{result.to_release}`\n"
            f"- migration version: `{result.migration_to}`"
        )
    return 0


def _service(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters import supervisor
    from dhash_gha.adapters.config import load_env_config

    ws = ctx.workspace()
    config = load_env_config(ws, args.env)
    if args.action == "status":
        from dhash_gha.steps.status import environment_status

        state = environment_status(ws, args.env, clock=ctx.clock)
        for line in state.lines()[:4]:
            ctx.reporter.info(line)
        return 0 if state.running else 1
    from dhash_gha.adapters.lock import environment_lock

    ctx.reporter.attach_log(ws.log_file("service", args.env, ctx.clock.now()))
    with environment_lock(ws, args.env, f"service {args.action}", clock=ctx.clock):
        if args.action == "stop":
            supervisor.stop(
                ws, args.env, config, environ=ctx.environ, clock=ctx.clock, reporter=ctx.reporter
            )
            return 0
        from dhash_gha.adapters.readiness import wait_healthy
        from dhash_gha.adapters.releases import read_release

        record = read_release(ws, args.env) or {}
        started = supervisor.start(
            ws,
            args.env,
            config,
            environ=ctx.environ,
            clock=ctx.clock,
            reporter=ctx.reporter,
            git_commit=record.get("git_commit"),
        )
        waited = wait_healthy(
            config,
            clock=ctx.clock,
            reporter=ctx.reporter,
            is_alive=(lambda: supervisor.status(ws, args.env, config, clock=ctx.clock).running)
            if started.pid is not None
            else None,
        )
    if not waited.ok:
        ctx.reporter.error(f"the component started but is not healthy: {waited.detail}")
        return 1
    return 0
