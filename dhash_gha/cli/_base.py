"""Shared pieces of the command modules: the parser class and the handler type."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from dhash_gha.errors import BadInput, NotBuiltYet

# typing costs ~2 ms to import; mypy treats a TYPE_CHECKING variable like typing's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from dhash_gha.context import Context

Handler = Callable[[argparse.Namespace, "Context"], int]


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises BadInput (exit 2) with a "did you mean" instead of exiting."""

    def error(self, message: str) -> NoReturn:
        tip = f"run '{self.prog} --help' for usage"
        if "invalid choice:" in message:
            import difflib

            choice = message.split("invalid choice:", 1)[1].split("'")[1]
            options = [a for action in self._actions for a in (action.choices or [])]
            close = difflib.get_close_matches(choice, [str(o) for o in options], n=1)
            if close:
                tip = f"did you mean '{close[0]}'? ({tip})"
        raise BadInput(f"{self.prog}: {message}", tip=tip)


def add_env(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--env",
        required=required,
        metavar="ENV",
        help="environment name, as under config/{ENV}/dhash.json (e.g. production, staging)",
    )


def not_built(what: str) -> Handler:
    """Handler for a command that is named in the CLI but not built in this version."""

    def handler(args: argparse.Namespace, ctx: Context) -> int:
        raise NotBuiltYet(
            f"'{what}' is not built yet in this version of dhash-gha",
            tip="see README.md, 'Commands', for what this version provides",
        )

    return handler


def add_command(
    subparsers: Any, name: str, help_text: str, handler: Handler, **kwargs: Any
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help_text, description=help_text, **kwargs
    )
    parser.set_defaults(handler=handler)
    return parser
