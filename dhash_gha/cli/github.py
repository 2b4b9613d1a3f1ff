"""GitHub: branch protection, environments, deployments.

Handlers import the GitHub library (and PyGithub through it) only when they run.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command
from dhash_gha.cli._index import summary

if TYPE_CHECKING:
    from dhash_gha.adapters.github.client import GitHubClient
    from dhash_gha.context import Context
    from dhash_gha.core.protection.model import Row


def _client(ctx: Context) -> GitHubClient:
    from dhash_gha.adapters.github.client import GitHubClient, credentials_from_env

    creds = credentials_from_env(ctx.environ)
    ctx.reporter.mask(creds.token)
    client = GitHubClient.from_credentials(creds, clock=ctx.clock)
    client.on_note = lambda note: ctx.reporter.warning(note, title="GitHub API")
    return client


def _emit_rows(
    ctx: Context,
    *,
    title: str,
    subject: dict[str, Any],
    rows: list[Row],
    notes: list[str],
    as_json: bool,
    allow_unchecked: bool,
    output_name: str,
) -> int:
    from dhash_gha.core.protection.report import Outcome, markdown_table, text_table, to_json

    outcome = Outcome.of(rows)
    ok = outcome.ok(allow_unchecked=allow_unchecked)
    headline = outcome.headline(title)
    if as_json:
        ctx.reporter.stream.write(to_json(subject, rows, outcome, ok, notes) + "\n")
    else:
        ctx.reporter.info(text_table(rows))
        for note in notes:
            ctx.reporter.warning(note)
        if ok:
            ctx.reporter.info(headline)
        else:
            ctx.reporter.error(headline, title=title)
    ctx.reporter.summary(markdown_table(f"{'✅' if ok else '❌'} {headline}", rows, notes))
    ctx.reporter.set_output(output_name, "true" if ok else "false")
    return 0 if ok else 1


# --- protection verify ------------------------------------------------------------------
def _protection_verify(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from dhash_gha.adapters.github.client import parse_repo
    from dhash_gha.adapters.github.policy_file import load_policy
    from dhash_gha.adapters.github.protection import fetch_snapshot
    from dhash_gha.core.protection.policy import evaluate
    from dhash_gha.core.protection.report import protection_notes

    owner, repo = parse_repo(args.repo)
    policy = load_policy(Path(args.policy) if args.policy else None)
    client = _client(ctx)
    snap = fetch_snapshot(client, owner, repo, args.branch)
    rows = evaluate(snap, policy)
    notes = protection_notes(snap, rows)
    return _emit_rows(
        ctx,
        title=f"branch protection of {owner}/{repo}@{args.branch}",
        subject={"repo": f"{owner}/{repo}", "branch": args.branch},
        rows=rows,
        notes=notes,
        as_json=args.json,
        allow_unchecked=args.allow_unchecked,
        output_name="protection-ok",
    )


# --- environment verify -----------------------------------------------------------------
def _environment_verify(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from dhash_gha.adapters.github.client import parse_repo
    from dhash_gha.adapters.github.environments import verify_environment
    from dhash_gha.adapters.github.policy_file import load_policy

    owner, repo = parse_repo(args.repo)
    policy = load_policy(Path(args.policy) if args.policy else None)
    team = args.ops_team or policy.ops_team
    client = _client(ctx)
    rows = verify_environment(client, owner, repo, args.env, ops_team=team)
    return _emit_rows(
        ctx,
        title=f"environment {args.env} of {owner}/{repo}",
        subject={"repo": f"{owner}/{repo}", "environment": args.env},
        rows=rows,
        notes=[],
        as_json=args.json,
        allow_unchecked=args.allow_unchecked,
        output_name="environment-ok",
    )


# --- deployments ------------------------------------------------------------------------
def _deployment_create(args: argparse.Namespace, ctx: Context) -> int:
    import json

    from dhash_gha.adapters.github.client import parse_repo
    from dhash_gha.adapters.github.deployments import create_deployment

    owner, repo = parse_repo(args.repo)
    client = _client(ctx)
    deployment = create_deployment(
        client,
        owner,
        repo,
        ref=args.ref,
        env=args.env,
        release_id=args.release_id,
        backup=args.backup,
        description=args.description,
        skip_status_checks=args.skip_status_checks,
    )
    deployment_id = str(deployment["id"])
    if args.json:
        ctx.reporter.stream.write(json.dumps(deployment, indent=2) + "\n")
    else:
        ctx.reporter.info(deployment_id)
    ctx.reporter.set_output("deployment-id", deployment_id)
    ctx.reporter.set_output("deployment-url", str(deployment.get("url", "")))
    return 0


def _deployment_status(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.github.client import parse_repo
    from dhash_gha.adapters.github.deployments import set_deployment_status

    owner, repo = parse_repo(args.repo)
    client = _client(ctx)
    status = set_deployment_status(
        client,
        owner,
        repo,
        args.id,
        state=args.state,
        log_url=args.log_url,
        description=args.description,
        environment_url=args.environment_url,
    )
    ctx.reporter.info(f"deployment {args.id}: {status.get('state', args.state)}")
    return 0


def _deployment_deactivate(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.github.client import parse_repo
    from dhash_gha.adapters.github.deployments import deactivate_deployment

    owner, repo = parse_repo(args.repo)
    client = _client(ctx)
    deactivate_deployment(client, owner, repo, args.id, description=args.description)
    ctx.reporter.info(f"deployment {args.id}: inactive")
    return 0


def _add_repo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo", required=True, metavar="OWNER/NAME", help="repository, e.g. acme/dhash"
    )


def _positive_int(text: str) -> int:
    from dhash_gha.errors import BadInput

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise BadInput(f"--id must be a positive deployment id, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    protection = add_command(subparsers, "protection", summary("protection"), _needs_action)
    p_actions = protection.add_subparsers(dest="protection_action", metavar="ACTION", required=True)
    verify = add_command(
        p_actions,
        "verify",
        "verify a branch's effective protection (classic + rulesets + CODEOWNERS) against the "
        "policy; exit 1 when a required setting fails or could not be checked",
        _protection_verify,
    )
    _add_repo(verify)
    verify.add_argument("--branch", required=True)
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.add_argument("--policy", metavar="FILE", help="JSON or YAML policy overriding defaults")
    verify.add_argument(
        "--allow-unchecked",
        action="store_true",
        help="do not fail for settings the token could not read (they are still listed)",
    )

    environment = add_command(subparsers, "environment", summary("environment"), _needs_action)
    e_actions = environment.add_subparsers(
        dest="environment_action", metavar="ACTION", required=True
    )
    e_verify = add_command(
        e_actions,
        "verify",
        "verify a GitHub environment exists and gates deploys (reviewers, self-review, "
        "admin bypass, branch policy)",
        _environment_verify,
    )
    _add_repo(e_verify)
    e_verify.add_argument("--env", required=True, metavar="ENV")
    e_verify.add_argument("--ops-team", metavar="SLUG", help="team that must review (default: ops)")
    e_verify.add_argument("--policy", metavar="FILE", help="policy file (its ops_team is used)")
    e_verify.add_argument("--json", action="store_true", help="print the result as JSON")
    e_verify.add_argument("--allow-unchecked", action="store_true")

    deployment = add_command(subparsers, "deployment", summary("deployment"), _needs_action)
    d_actions = deployment.add_subparsers(dest="deployment_action", metavar="ACTION", required=True)
    create = add_command(
        d_actions,
        "create",
        "create a deployment of REF to ENV; prints its id (step output deployment-id)",
        _deployment_create,
    )
    _add_repo(create)
    create.add_argument("--ref", required=True, help="branch, tag or commit SHA")
    create.add_argument("--env", required=True, metavar="ENV")
    create.add_argument("--release-id", required=True)
    create.add_argument("--backup", metavar="PATH", help="pre-deploy backup (payload)")
    create.add_argument("--description")
    create.add_argument(
        "--skip-status-checks",
        action="store_true",
        help="do not ask GitHub to verify the commit's status checks (required_contexts: [])",
    )
    create.add_argument("--json", action="store_true", help="print the deployment as JSON")

    status = add_command(
        d_actions,
        "status",
        "set a deployment's state (in_progress, success, failure, …) with a log URL",
        _deployment_status,
    )
    _add_repo(status)
    status.add_argument("--id", required=True, type=_positive_int)
    status.add_argument(
        "--state",
        required=True,
        choices=("error", "failure", "inactive", "in_progress", "queued", "pending", "success"),
    )
    status.add_argument("--log-url", metavar="URL")
    status.add_argument("--environment-url", metavar="URL")
    status.add_argument("--description")

    deactivate = add_command(
        d_actions,
        "deactivate",
        "mark a deployment inactive (the release a rollback replaced)",
        _deployment_deactivate,
    )
    _add_repo(deactivate)
    deactivate.add_argument("--id", required=True, type=_positive_int)
    deactivate.add_argument("--description")


def _needs_action(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.errors import BadInput

    raise BadInput(
        f"'{args.command}' needs an action", tip=f"run 'dhash-gha {args.command} --help'"
    )
