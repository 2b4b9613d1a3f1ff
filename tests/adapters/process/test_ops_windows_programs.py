"""Commands such as ``npm`` are ``npm.cmd`` on Windows, which CreateProcess does not find.

Windows searches PATH only for ``.exe`` when given a bare name; ``shutil.which``
honours PATHEXT (``.CMD``, ``.BAT`` …). Configured commands resolve their program
that way on Windows; elsewhere argv is left exactly as configured.
"""

from __future__ import annotations

import sys

import pytest

from dhash_gha.adapters import procs


def fake_which(name: str) -> str | None:
    return {"npm": r"C:\Program Files\nodejs\npm.CMD"}.get(name)


def test_windows_resolves_a_bare_program_through_pathext(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(procs.shutil, "which", fake_which)
    assert procs.program_argv(["npm", "ci"]) == [r"C:\Program Files\nodejs\npm.CMD", "ci"]
    # a path, or a program which() cannot find, stays as given (the error names it)
    assert procs.program_argv([r"tools\npm", "ci"]) == [r"tools\npm", "ci"]
    assert procs.program_argv(["nosuch", "x"]) == ["nosuch", "x"]


def test_posix_leaves_argv_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(procs.shutil, "which", fake_which)
    assert procs.program_argv(["npm", "ci"]) == ["npm", "ci"]
