"""``dhash-gha status``: an environment's state; ``status set``: a commit status for PR checks."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command, add_env
from dhash_gha.cli._index import summary

if TYPE_CHECKING:
    from dhash_gha.context import Context


def register(subparsers: Any) -> None:
    status = add_command(
        subparsers,
        "status",
        summary("status"),
        _status_show,
    )
    add_env(status, required=False)
    actions = status.add_subparsers(dest="status_action", metavar="ACTION")
    status_set = add_command(
        actions,
        "set",
        "post a commit status (context, state, description, URL)",
        _status_set,
    )
    status_set.add_argument("--repo", required=True, metavar="OWNER/NAME")
    status_set.add_argument("--sha", required=True, help="full 40-character commit SHA")
    status_set.add_argument("--context", required=True, help="check name, e.g. premerge-validation")
    status_set.add_argument(
        "--state", required=True, choices=("error", "failure", "pending", "success")
    )
    status_set.add_argument("--description", help="one line (GitHub keeps 140 characters)")
    status_set.add_argument("--target-url", metavar="URL", help="link shown on the check")


def _status_set(args: argparse.Namespace, ctx: Context) -> int:
    """Post a commit status; PyGithub is imported only here."""
    from dhash_gha.adapters.github.client import GitHubClient, credentials_from_env, parse_repo
    from dhash_gha.adapters.github.statuses import create_commit_status, validate_status

    owner, repo = parse_repo(args.repo)
    validate_status(args.sha, args.state, args.context, args.target_url)
    creds = credentials_from_env(ctx.environ)
    ctx.reporter.mask(creds.token)
    client = GitHubClient.from_credentials(creds, clock=ctx.clock)
    client.on_note = lambda note: ctx.reporter.warning(note, title="GitHub API")
    create_commit_status(
        client,
        owner,
        repo,
        sha=args.sha,
        state=args.state,
        context=args.context,
        description=args.description,
        target_url=args.target_url,
    )
    ctx.reporter.info(f"{args.context}: {args.state} on {args.sha[:12]}")
    return 0


def _status_show(args: argparse.Namespace, ctx: Context) -> int:
    """An environment's release, process, health, latest backup, migrations and incidents."""
    from dhash_gha.errors import BadInput
    from dhash_gha.steps.status import environment_status

    if not args.env:
        raise BadInput("status needs --env ENV", tip="e.g. dhash-gha status --env production")
    state = environment_status(ctx.workspace(), args.env, clock=ctx.clock)
    for line in state.lines():
        ctx.reporter.info(line)
    return 0
