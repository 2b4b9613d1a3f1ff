"""``dhash-gha backup``: create, verify, list, latest, prune (and restore, the rollback primitive)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command, add_env
from dhash_gha.cli._index import summary
from dhash_gha.errors import BadInput, CheckFailed

if TYPE_CHECKING:
    from pathlib import Path

    from dhash_gha.context import Context


def _human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _human_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def _relative(ctx: Context, path: Path) -> str:
    try:
        return path.relative_to(ctx.workspace().root).as_posix()
    except ValueError:
        return str(path)


def create_handler(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.archive import create_backup

    if not args.env:
        raise BadInput("backup: --env is required", tip="run 'dhash-gha backup --env production'")
    ws = ctx.workspace()
    ctx.reporter.attach_log(ws.log_file("backup", args.env, ctx.clock.now()))
    result = create_backup(ws, args.env, clock=ctx.clock, reporter=ctx.reporter)
    rel = _relative(ctx, result.path)
    mbps = result.bytes / 1e6 / result.seconds if result.seconds > 0 else 0.0
    ctx.reporter.info(
        f"backup written: {rel} ({result.files} files, {_human_bytes(result.bytes)}, "
        f"{result.seconds:.1f}s, {mbps:.0f} MB/s)",
        event="backup_done",
        path=rel,
    )
    ctx.reporter.info(f"sha256: {result.sha256}")
    ctx.reporter.set_output("backup_path", rel)
    ctx.reporter.set_output("backup_sha256", result.sha256)
    ctx.reporter.summary(f"**Backup** `{rel}` — {result.files} files, sha256 `{result.sha256}`")
    return 0


def verify_handler(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from dhash_gha.adapters.archive import verify_backup

    path = Path(args.path)
    if not path.is_absolute() and not path.exists():
        path = ctx.workspace().root / path
    result = verify_backup(path)
    manifest = result.manifest
    ctx.reporter.info(
        f"OK {path.name}: {result.files} files, {_human_bytes(result.bytes)}, "
        f"environment {manifest['environment']}, created {manifest['created_at']}, "
        f"migration {manifest['migration_version']}, commit {manifest.get('git_commit') or '-'}"
    )
    return 0


def list_handler(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.archive import list_backups

    ws = ctx.workspace()
    backups = list_backups(ws, args.env)
    if not backups:
        ctx.reporter.info(f"no backups of {args.env} in {ws.backups_dir}")
        return 0
    now = ctx.clock.now()
    rows = [("NAME", "SIZE", "AGE", "VERIFIED")]
    for info in backups:
        verified = "yes" if info.verified else f"NO ({info.problem})"
        age = _human_age((now - info.created).total_seconds())
        rows.append((info.name, _human_bytes(info.size), age, verified))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        ctx.reporter.info(
            f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}"
        )
    return 0


def latest_handler(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.archive import latest_backup

    ws = ctx.workspace()
    path = latest_backup(ws, args.env, verified=not args.any)
    if path is None:
        what = "backup" if args.any else "verified backup"
        raise CheckFailed(
            f"no {what} of {args.env} in {ws.backups_dir}",
            tip=f"create one: dhash-gha backup create --env {args.env}",
        )
    ctx.reporter.info(_relative(ctx, path))
    ctx.reporter.set_output("backup_path", _relative(ctx, path))
    return 0


def prune_handler(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.archive import prune_backups

    ws = ctx.workspace()
    if not args.dry_run:
        ctx.reporter.attach_log(ws.log_file("backup", args.env, ctx.clock.now()))
    plan = prune_backups(ws, args.env, args.keep, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for path in plan.delete:
        ctx.reporter.info(f"{verb} {_relative(ctx, path)}", event="backup_pruned")
    for name, why in sorted(plan.protected.items()):
        ctx.reporter.info(f"kept {name} ({why})")
    done = "to delete" if args.dry_run else "deleted"
    ctx.reporter.info(f"{len(plan.keep)} kept, {len(plan.delete)} {done}")
    return 0


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "backup",
        summary("backup"),
        create_handler,
    )
    add_env(parser, required=False)
    actions = parser.add_subparsers(dest="backup_action", metavar="ACTION")
    create = add_command(actions, "create", "create a verified backup", create_handler)
    add_env(create)
    verify = add_command(
        actions,
        "verify",
        "verify a backup: sidecar checksum, zip integrity, every manifest hash",
        verify_handler,
    )
    verify.add_argument("path", metavar="PATH", help="the backup .zip")
    listing = add_command(
        actions,
        "list",
        "list an environment's backups (name, size, age, verified)",
        list_handler,
    )
    add_env(listing)
    latest = add_command(
        actions,
        "latest",
        "print the newest verified backup's path (exit 1 when there is none)",
        latest_handler,
    )
    add_env(latest)
    latest.add_argument(
        "--any", action="store_true", help="the newest backup, verified or not (like `sort -r`)"
    )
    prune = add_command(
        actions,
        "prune",
        "delete old backups, keeping N (never the newest verified one, nor the current "
        "release's pre-deploy backup)",
        prune_handler,
    )
    add_env(prune)
    prune.add_argument("--keep", type=int, required=True, metavar="N")
    prune.add_argument("--dry-run", action="store_true", help="show what would be deleted")
