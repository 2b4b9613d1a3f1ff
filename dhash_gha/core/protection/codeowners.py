"""CODEOWNERS: which owners GitHub asks for a path. Pure; no I/O.

GitHub reads the first of ``.github/CODEOWNERS``, ``CODEOWNERS`` and
``docs/CODEOWNERS``; the *last* matching line wins. Patterns follow
gitignore rules minus negation (``!``) and character ranges, which GitHub
does not support.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dhash_gha.core.globs import glob_regex

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class Entry:
    line: int
    pattern: str
    owners: tuple[str, ...]
    regex: re.Pattern[str]


def _translate(pattern: str) -> re.Pattern[str]:
    dir_only = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    out = glob_regex(body, trailing_matches_dir=False)
    prefix = "^" if anchored else "^(?:.*/)?"
    suffix = "/.*$" if dir_only else "(?:/.*)?$"
    if body.endswith("/*"):  # GitHub: `docs/*` owns docs/a.md but not docs/sub/b.md
        suffix = "$"
    if body == "*":
        return re.compile("^.*$")
    return re.compile(prefix + out + suffix)


def parse(text: str) -> list[Entry]:
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        fields = line.split()
        pattern, owners = fields[0], tuple(fields[1:])
        entries.append(Entry(number, pattern, owners, _translate(pattern)))
    return entries


def owners_of(entries: list[Entry], path: str) -> Entry | None:
    """The entry that decides the owners of ``path`` (the last match), if any."""
    found = None
    for entry in entries:
        if entry.regex.match(path.lstrip("/")):
            found = entry
    return found


def names_team(owner: str, team: str, org: str | None = None) -> bool:
    """Whether ``@org/slug`` names ``team`` (``slug`` or ``org/slug``)."""
    owner = owner.lower().lstrip("@")
    team = team.lower().lstrip("@")
    if "/" not in owner:
        return False
    if "/" in team:
        return owner == team
    owner_org, slug = owner.split("/", 1)
    return slug == team and (org is None or owner_org == org.lower())
