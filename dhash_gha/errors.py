"""Error classes, one per exit code.

Every failure the CLI reports is one of these. The error boundary in
``dhash_gha.cli`` maps them to exit codes; library code raises them where
the low-level error happens, with a ``tip`` that tells the operator the fix.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ROLLED_BACK = 3
EXIT_ROLLBACK_FAILED = 4
EXIT_INTERRUPTED = 130


class DhashError(Exception):
    """Base class: a failure with an exit code and an actionable tip."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, tip: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tip = tip

    def __str__(self) -> str:
        return self.message


class CheckFailed(DhashError):
    """A check ran and said no: a gate, a smoke test, a verification, a policy."""

    exit_code = EXIT_CHECK_FAILED


class BadInput(DhashError):
    """The input is wrong: arguments, config, archive, API answer. Nothing was changed."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(BadInput):
    """A configuration file is missing, malformed or invalid."""


class NotBuiltYet(BadInput):
    """A command that is named in the CLI but not implemented in this version."""


class RollbackPerformed(DhashError):
    """A quality gate or a failed release caused a rollback, and the rollback succeeded."""

    exit_code = EXIT_ROLLED_BACK


class RollbackFailed(DhashError):
    """A rollback was needed and did not complete: the operator must act."""

    exit_code = EXIT_ROLLBACK_FAILED
