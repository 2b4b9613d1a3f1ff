"""The command line: parses arguments and calls the library, nothing more.

``main(argv) -> int`` is the single error boundary: every exception becomes
an exit code (see README, "Exit codes"). Command modules are imported here,
but they import the library (and its heavier dependencies) only inside their
handlers, so ``dhash-gha --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Mapping, Sequence

from dhash_gha import __version__
from dhash_gha.cli import (
    backup,
    config_cmd,
    gates,
    github,
    monitoring,
    notify,
    operations,
    premerge,
    status,
)
from dhash_gha.cli._base import ArgumentParser, Handler
from dhash_gha.clock import Clock
from dhash_gha.context import Context
from dhash_gha.errors import (
    EXIT_CHECK_FAILED,
    EXIT_INTERRUPTED,
    DhashError,
)

# Order here is the order in --help.
_COMMAND_MODULES = (
    backup,
    operations,
    monitoring,
    gates,
    notify,
    config_cmd,
    github,
    status,
    premerge,
)

EPILOG = """\
exit codes:
  0    ok
  1    a check failed (gate, smoke test, verification, policy)
  2    bad input or usage (nothing was changed)
  3    a rollback was performed (the release was rolled back successfully)
  4    a rollback was needed and failed: act now
  130  interrupted

Every command logs to logs/{kind}_{env}_{ts}.log under the workspace root.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="dhash-gha",
        description=(
            "Guarded rollout for the dhash media service: back up, deploy, migrate, "
            "smoke-test, monitor against quality gates, and roll back on its own."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dhash-gha {__version__}")
    parser.add_argument(
        "--root",
        metavar="DIR",
        default=None,
        help="workspace root: the checkout holding config/ and src/ (default: $DHASH_ROOT or the "
        "current directory)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    subparsers.required = True
    for module in _COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    except DhashError as exc:
        _report_failure(sys.stderr, exc)
        return exc.exit_code

    root = args.root or environ.get("DHASH_ROOT") or os.getcwd()
    ctx = Context.create(root, environ, clock)
    handler: Handler = args.handler
    try:
        return handler(args, ctx)
    except KeyboardInterrupt:
        ctx.reporter.error("interrupted")
        return EXIT_INTERRUPTED
    except DhashError as exc:
        ctx.reporter.error(exc.message, title=f"dhash-gha {args.command}")
        if exc.tip:
            ctx.reporter.tip(exc.tip)
        return exc.exit_code
    except Exception as exc:  # the boundary: a bug must still say where to look
        ctx.reporter.error(f"internal error: {type(exc).__name__}: {exc}")
        ctx.reporter.event("traceback", "ERROR", traceback=traceback.format_exc())
        traceback.print_exc()
        return EXIT_CHECK_FAILED


def _report_failure(stream: object, exc: DhashError) -> None:
    write = getattr(stream, "write")  # noqa: B009
    write(f"error: {exc.message}\n")
    if exc.tip:
        write(f"tip: {exc.tip}\n")


def console_main() -> None:
    """Entry point of the ``dhash-gha`` console script."""
    sys.exit(main())
