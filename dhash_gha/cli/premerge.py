"""Pre-merge validation, provenance and adoption: premerge, provenance, init."""

from __future__ import annotations

from typing import Any

from dhash_gha.cli._base import add_command, not_built


def register(subparsers: Any) -> None:
    add_command(
        subparsers,
        "premerge",
        "run the pre-merge checks and write the premerge_artifacts/ bundle",
        not_built("premerge"),
    )
    add_command(
        subparsers,
        "provenance",
        "write an in-toto / SLSA v1 provenance statement for backups and artifacts",
        not_built("provenance"),
    )
    init = add_command(
        subparsers,
        "init",
        "adopt dhash-gha in a repository: configs, scripts and workflows",
        not_built("init"),
    )
    init.add_argument("--env", action="append", metavar="ENV", help="environment (repeatable)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
