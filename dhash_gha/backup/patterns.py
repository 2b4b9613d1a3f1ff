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


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out += "(?:/.*)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z", re.DOTALL)


def excluded(path: str, patterns: Sequence[str]) -> bool:
    """True when ``path`` (relative, ``/``-separated, no trailing slash) matches a pattern."""
    return any(_compile(p.strip("/") if p != "/" else p).match(path) for p in patterns)
