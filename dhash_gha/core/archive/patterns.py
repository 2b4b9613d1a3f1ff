"""Exclude patterns of the backup section (pure).

Patterns are ``/``-separated globs relative to the workspace root: ``*``
and ``?`` stay within one path component, ``**`` spans any number of them.
A pattern that matches a directory (or everything under it, ``dir/**``)
excludes the directory as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from dhash_gha.core.globs import glob_regex


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(glob_regex(pattern, trailing_matches_dir=True) + r"\Z", re.DOTALL)


def excluded(path: str, patterns: Sequence[str]) -> bool:
    """True when ``path`` (relative, ``/``-separated, no trailing slash) matches a pattern."""
    return any(_compile(p.strip("/") if p != "/" else p).match(path) for p in patterns)
