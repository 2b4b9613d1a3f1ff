"""Path globs as regular expressions (pure): backup excludes and CODEOWNERS share them.

``*`` and ``?`` stay within one path component, ``**`` spans any number of
components, everything else is literal.
"""

from __future__ import annotations

import re


def glob_regex(pattern: str, *, trailing_matches_dir: bool) -> str:
    """Regex source (unanchored) for a ``/``-separated glob.

    A trailing ``/**`` matches everything under the directory, and the directory itself
    too when ``trailing_matches_dir`` (backup excludes: a directory excluded as a whole).
    """
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out += "(?:/.*)?" if trailing_matches_dir else "/.*"
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
    return out
