"""Pre-merge validation, provenance, adoption, and the composite actions' step helpers.

Commands: ``premerge``, ``provenance``, ``init``, ``gha run|backup-name|waves``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command, add_env
from dhash_gha.cli._index import summary

if TYPE_CHECKING:
    from dhash_gha.context import Context


def register(subparsers: Any) -> None:
    premerge = add_command(
        subparsers,
        "premerge",
        summary("premerge"),
        _premerge,
    )
    premerge.add_argument(
        "--env",
        default=None,
        metavar="ENV",
        help="environment whose config the checks use (default: staging when it exists, "
        "else the first one)",
    )
    premerge.add_argument(
        "--output",
        default=None,
        metavar="DIR",
        help="artifact bundle directory (default: premerge_artifacts/ under the workspace root)",
    )
    premerge.add_argument("--repo", default="", metavar="OWNER/NAME", help="for protection verify")
    premerge.add_argument("--branch", default="", metavar="BRANCH", help="for protection verify")
    premerge.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="STEP",
        help="skip a step by name (recorded as skipped; repeatable)",
    )

    provenance = add_command(
        subparsers,
        "provenance",
        summary("provenance"),
        _provenance,
    )
    provenance.add_argument(
        "--subject",
        action="append",
        default=[],
        metavar="PATH",
        help="a file or directory to attest (repeatable; default with --env: the latest backup "
        "and its .sha256)",
    )
    add_env(provenance, required=False)
    provenance.add_argument(
        "--output", default="-", metavar="FILE", help="where to write the JSON (default: stdout)"
    )

    init = add_command(
        subparsers,
        "init",
        summary("init"),
        _init,
    )
    init.add_argument(
        "--env",
        action="append",
        metavar="ENV",
        help="environment (repeatable; default: production and staging)",
    )
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.add_argument(
        "--action-repo",
        default=None,
        metavar="OWNER/NAME",
        help="repository holding the dhash-gha actions (default: dhash-gha/dhash-gha)",
    )
    init.add_argument(
        "--action-sha",
        default=None,
        metavar="SHA",
        help="pin the actions to this 40-hex commit (recommended); default: the version tag",
    )

    gha = add_command(
        subparsers,
        "gha",
        summary("gha"),
        _gha_usage,
    )
    actions = gha.add_subparsers(dest="gha_action", metavar="ACTION", required=True)
    run = add_command(
        actions,
        "run",
        "run a dhash-gha command, then set step outputs (exit-code, result, backup-path, "
        "backup-sha256, release-id, incident-*) and a job summary",
        _gha_run,
    )
    run.add_argument(
        "--from-env",
        metavar="VAR",
        default=None,
        help="take the command from environment variable VAR (split like a shell would, "
        "never run by one)",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, help="the command, after --")
    name = add_command(
        actions,
        "backup-name",
        "check that NAME is a backup of ENV (a bare file name or 'latest', never a path) and "
        "output its path",
        _gha_backup_name,
    )
    add_env(name)
    name.add_argument("--name", required=True, metavar="NAME")
    waves = add_command(
        actions, "waves", "split a fleet's hosts into the canary and the rest", _gha_waves
    )
    waves.add_argument(
        "--hosts-from-env",
        metavar="VAR",
        required=True,
        help="environment variable holding a JSON list or comma-separated host labels",
    )
    waves.add_argument(
        "--labels-from-env",
        metavar="VAR",
        default=None,
        help="environment variable holding the runner labels (JSON list) used without hosts",
    )


# --- premerge --------------------------------------------------------------------------------
def _premerge(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from dhash_gha.adapters.ghactions import result_for
    from dhash_gha.compose.premerge import PremergeOptions, run_premerge
    from dhash_gha.errors import DhashError

    ws = ctx.workspace()
    options = PremergeOptions(
        env=args.env or None,
        output=Path(args.output) if args.output else None,
        repo=args.repo.strip(),
        branch=args.branch.strip(),
        skip=frozenset(args.skip),
    )
    try:
        report = run_premerge(
            ws, options, environ=ctx.environ, clock=ctx.clock, reporter=ctx.reporter
        )
    except DhashError as exc:  # outputs still say what happened, then the boundary reports it
        ctx.reporter.set_output("result", result_for(exc.exit_code))
        ctx.reporter.set_output("exit-code", str(exc.exit_code))
        raise
    return report.exit_code


# --- provenance ------------------------------------------------------------------------------
def _provenance(args: argparse.Namespace, ctx: Context) -> int:
    import json
    import sys
    from pathlib import Path

    from dhash_gha.adapters.workspace import Workspace
    from dhash_gha.errors import BadInput
    from dhash_gha.steps import provenance as prov

    ws = ctx.workspace()
    started = ctx.clock.now()
    subjects = [Path(s) if Path(s).is_absolute() else ws.root / s for s in args.subject]
    if not subjects and args.env:
        backups = ws.backups(args.env)
        if not backups:
            raise BadInput(
                f"environment '{args.env}' has no backup to attest",
                tip=f"create one with 'dhash-gha backup create --env {args.env}' or pass --subject",
            )
        subjects = [backups[0], Workspace.sidecar(backups[0])]
        subjects = [s for s in subjects if s.exists()]
    statement = prov.build_statement(
        prov.collect_subjects(subjects, ws.root),
        prov.Invocation.from_environ(ctx.environ),
        git_commit=prov.git_commit(ws.root, ctx.environ),
        tools=prov.tool_versions(prov.ffmpeg_version()),
        started=started,
        finished=ctx.clock.now(),
        parameters={"environment": args.env} if args.env else None,
    )
    if args.output == "-":
        sys.stdout.write(json.dumps(statement, indent=2) + "\n")
        return 0
    out = Path(args.output)
    out = out if out.is_absolute() else Path.cwd() / out
    try:
        if out.is_dir():
            raise IsADirectoryError(21, "is a directory")
        prov.write_json_atomic(out, statement)
    except OSError as exc:
        raise BadInput(
            f"cannot write the provenance statement to {out}: {exc.strerror or exc}",
            tip="pass --output FILE: a file path in a writable directory (or '-' for stdout)",
        ) from None
    ctx.reporter.info(f"provenance for {len(statement['subject'])} subject(s) written to {out}")
    ctx.reporter.set_output("provenance-path", str(out))
    return 0


# --- init ------------------------------------------------------------------------------------
def _init(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.steps.init import AdoptOptions, adopt

    ws = ctx.workspace()
    options = AdoptOptions(
        environments=tuple(args.env or ("production", "staging")),
        force=args.force,
        action_repo=args.action_repo,
        action_sha=args.action_sha,
    )
    if options.action_sha is None:
        ctx.reporter.warning(
            "the workflows use the actions by version tag; pin them to a commit with "
            "--action-sha (a tag can be moved, and zizmor reports tag pins)",
            title="init",
        )
    result = adopt(ws, options)
    for path in result.written:
        ctx.reporter.info(f"wrote {path.relative_to(ws.root).as_posix()}")
    ctx.reporter.info("")
    ctx.reporter.info(result.next_steps)
    return 0


# --- gha -------------------------------------------------------------------------------------
def _gha_usage(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.errors import BadInput

    raise BadInput("'gha' needs an action", tip="run 'dhash-gha gha --help'")


def _gha_run(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters import ghactions
    from dhash_gha.cli import main
    from dhash_gha.errors import BadInput

    argv = list(args.argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if args.from_env:
        if argv:
            raise BadInput("give the command either after -- or with --from-env, not both")
        argv = ghactions.split_command(ctx.environ.get(args.from_env, ""))
    elif not argv:
        raise BadInput(
            "no command to run", tip="e.g. 'dhash-gha gha run -- backup create --env staging'"
        )
    if argv[0] == "gha":
        raise BadInput("'gha run' cannot run another 'gha' command")
    ws = ctx.workspace()
    env = ghactions.env_from_argv(argv)
    if env is not None:
        from dhash_gha.adapters.workspace import check_env_name

        check_env_name(env)
    before = ghactions.Before.snapshot(ws, env)
    code = main(["--root", str(ws.root), *argv], environ=ctx.environ, clock=ctx.clock)
    outputs = ghactions.collect_outputs(ws, env, before, code)
    for key, value in outputs.items():
        ctx.reporter.set_output(key, value)
    rows = [("command", "dhash-gha " + " ".join(argv)), *[(k, v) for k, v in outputs.items() if v]]
    ctx.reporter.summary(
        f"### dhash-gha {argv[0]}: {outputs['result']}\n\n" + ghactions.summary_table(rows)
    )
    if code not in (0,):
        ctx.reporter.error(
            f"dhash-gha {argv[0]} ended with exit code {code} ({outputs['result']})",
            title=f"dhash-gha {argv[0]}",
        )
    return code


def _gha_backup_name(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters import ghactions

    ws = ctx.workspace()
    path = ghactions.resolve_backup(ws, args.env, args.name)
    relative = path.relative_to(ws.root).as_posix()
    ctx.reporter.info(f"backup {args.name!r} of environment '{args.env}' is {relative}")
    ctx.reporter.set_output("backup-path", relative)
    ctx.reporter.set_output("backup-sha256", ghactions.sidecar_digest(path) or "")
    return 0


def _gha_waves(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters import ghactions

    labels = ctx.environ.get(args.labels_from_env, "") if args.labels_from_env else ""
    waves = ghactions.plan_waves(ctx.environ.get(args.hosts_from_env, ""), labels)
    for key, value in waves.as_outputs().items():
        ctx.reporter.set_output(key, value)
    rest = ", ".join(str(w["host"]) for w in waves.rest) or "(none)"
    ctx.reporter.info(f"first wave (canary) runs on {waves.canary}; then: {rest}")
    return 0
