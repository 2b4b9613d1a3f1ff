"""Path globs shared by backup excludes and CODEOWNERS."""

from __future__ import annotations

import re

import pytest

from dhash_gha.core.globs import glob_regex


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.pyc", "a.pyc", True),
        ("*.pyc", "dir/a.pyc", False),
        ("**/*.pyc", "dir/sub/a.pyc", True),
        ("**/__pycache__/**", "src/pkg/__pycache__/m.pyc", True),
        ("src/?.py", "src/a.py", True),
        ("src/?.py", "src/ab.py", False),
        ("a.b", "axb", False),
        ("deployments/*/dhash.pid", "deployments/production/dhash.pid", True),
        ("deployments/*/dhash.pid", "deployments/a/b/dhash.pid", False),
    ],
)
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    regex = re.compile(glob_regex(pattern, trailing_matches_dir=True) + r"\Z")
    assert bool(regex.match(path)) is matches


def test_trailing_double_star_and_the_directory_itself() -> None:
    with_dir = re.compile(glob_regex("logs/**", trailing_matches_dir=True) + r"\Z")
    under_only = re.compile(glob_regex("logs/**", trailing_matches_dir=False) + r"\Z")
    assert with_dir.match("logs") and with_dir.match("logs/a/b.log")
    assert not under_only.match("logs") and under_only.match("logs/a/b.log")
