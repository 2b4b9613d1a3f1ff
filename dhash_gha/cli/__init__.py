"""The command line: parses arguments and calls the library, nothing more.

``main(argv) -> int`` is the single error boundary: every exception becomes
an exit code (see README, "Exit codes"). Only the module of the command being
run is imported, and it imports the library (and its heavier dependencies)
only inside its handlers, so ``dhash-gha --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Mapping, Sequence

from dhash_gha import __version__
from dhash_gha.cli._base import ArgumentParser, Handler
from dhash_gha.cli._index import COMMANDS
from dhash_gha.errors import EXIT_CHECK_FAILED, EXIT_INTERRUPTED, DhashError

# typing costs ~2 ms to import; mypy treats a TYPE_CHECKING variable like typing's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dhash_gha.core.clock import Clock

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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or — given a command word — one whose other commands are stubs.

    Importing every command module and building every parser costs more than
    Python's own start-up, so ``main`` imports and builds in full only the
    module that owns the command being run; the others appear as cheap
    entries (from ``_index``) that keep ``--help`` listings and "did you mean"
    suggestions complete.
    """
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
    registered: set[str] = set()
    for name, (module_name, summary) in COMMANDS.items():
        if module_name in registered:
            continue
        if command is None or COMMANDS.get(command, ("",))[0] == module_name:
            command_module(module_name).register(subparsers)
            registered.add(module_name)
        else:
            subparsers.add_parser(name, help=summary, add_help=False)
    return parser


def command_module(module_name: str) -> Any:
    """The command module ``dhash_gha.cli.<module_name>`` (imported on demand)."""
    return importlib.import_module(f"dhash_gha.cli.{module_name}")


def _command_word(argv: Sequence[str]) -> str | None:
    """The command being run: the first word that is not a global option or its value."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--root":
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_word(argv) or "")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    except DhashError as exc:
        _report_failure(sys.stderr, exc)
        return exc.exit_code

    if getattr(args, "root", None) == "":  # `--root "$UNSET"` must not mean the current directory
        from dhash_gha.errors import BadInput

        empty = BadInput(
            "--root is empty", tip="pass --root DIR (the workspace root), or leave --root out"
        )
        _report_failure(sys.stderr, empty)
        return empty.exit_code
    root = getattr(args, "root", None) or environ.get("DHASH_ROOT") or os.getcwd()
    from dhash_gha.context import Context

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
        import traceback

        ctx.reporter.error(f"internal error: {type(exc).__name__}: {exc}")
        ctx.reporter.event("traceback", "ERROR", traceback=traceback.format_exc())
        traceback.print_exc()
        return EXIT_CHECK_FAILED


def _report_failure(stream: object, exc: DhashError) -> None:
    write = getattr(stream, "write")  # noqa: B009
    write(f"error: {exc.message}\n")
    if exc.tip:
        write(f"tip: {exc.tip}\n")


def lossless_stdio(streams: Sequence[object]) -> None:
    """Let every message reach the terminal or pipe, whatever its code page.

    A piped stream on Windows is cp1252, which cannot encode "✅" or "→": the write
    would raise, and the reporter (which never lets output break a command) would
    drop the whole message. Pipes and files get UTF-8, like the logs and the
    GitHub step files; a console keeps its encoding. Whatever still cannot be
    encoded (an undecodable file name) is replaced instead of raising.
    """
    for stream in streams:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        isatty = getattr(stream, "isatty", None)
        if isatty is not None and isatty():
            reconfigure(errors="replace")
        else:
            reconfigure(encoding="utf-8", errors="replace")


def console_main() -> None:
    """Entry point of the ``dhash-gha`` console script."""
    lossless_stdio([sys.stdout, sys.stderr])
    sys.exit(main())
