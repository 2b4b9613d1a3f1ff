"""Render verification rows: a terminal table, JSON, and a job-summary markdown table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dhash_gha.core.protection.model import Row, Snapshot


@dataclass(frozen=True)
class Outcome:
    """The overall verdict of a set of rows."""

    failed: list[Row]
    unknown: list[Row]
    warned: list[Row]

    @classmethod
    def of(cls, rows: Sequence[Row]) -> Outcome:
        return cls(
            failed=[r for r in rows if r.status == "fail"],
            unknown=[r for r in rows if r.status == "unknown"],
            warned=[r for r in rows if r.status == "warn"],
        )

    def ok(self, *, allow_unchecked: bool = False) -> bool:
        required_unknown = [r for r in self.unknown if r.level == "required"]
        return not self.failed and (allow_unchecked or not required_unknown)

    def headline(self, subject: str) -> str:
        parts = []
        if self.failed:
            parts.append(f"{len(self.failed)} required setting(s) fail")
        if self.unknown:
            parts.append(f"{len(self.unknown)} could not be checked")
        if self.warned:
            parts.append(f"{len(self.warned)} recommendation(s) not met")
        if not parts:
            return f"{subject}: every setting meets the policy"
        return f"{subject}: " + ", ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> str:
    lines = [
        f"### {title}",
        "",
        "| | setting | found | required | fix |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.glyph} | `{row.setting}` | {_cell(row.found)} | {_cell(row.required)} | "
            f"{_cell(row.fix)} |"
        )
    lines.extend(f"\n> {note}" for note in notes)
    return "\n".join(lines)


def text_table(rows: Sequence[Row]) -> str:
    """One block per setting: fixed-width columns do not survive long 'found' values."""
    width = max((len(r.setting) for r in rows), default=0)
    lines = []
    for row in rows:
        lines.append(f"{row.glyph}  {row.setting.ljust(width)}  {row.found}")
        if row.status != "pass":
            lines.append(f"{' ' * (width + 4)}required: {row.required}")
            if row.fix:
                lines.append(f"{' ' * (width + 4)}fix: {row.fix}")
    return "\n".join(lines)


def to_json(
    subject: dict[str, Any],
    rows: Sequence[Row],
    outcome: Outcome,
    ok: bool,
    notes: Sequence[str] = (),
) -> str:
    return json.dumps(
        {
            **subject,
            "ok": ok,
            "notes": list(notes),
            "failed": [r.setting for r in outcome.failed],
            "could_not_check": [r.setting for r in outcome.unknown],
            "rows": [
                {
                    "setting": r.setting,
                    "level": r.level,
                    "status": r.status,
                    "glyph": r.glyph,
                    "found": r.found,
                    "required": r.required,
                    "fix": r.fix,
                }
                for r in rows
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def protection_notes(snap: Snapshot, rows: Sequence[Row]) -> list[str]:
    """What the reader must know besides the rows: which parts were invisible, and why."""
    notes = []
    if snap.classic_absent:
        notes.append(f"'{snap.branch}' has no classic branch protection rule")
    if snap.classic_unreadable:
        notes.append(
            f"classic protection could not be read: {snap.classic_unreadable}; judged from the "
            "rules endpoint only. Use a token with administration:read to check everything"
        )
    if snap.rules_unreadable:
        notes.append(f"branch rules could not be read: {snap.rules_unreadable}")
    unchecked = [r.setting for r in rows if r.status == "unknown"]
    if unchecked:
        notes.append(f"could not check: {', '.join(unchecked)}")
    return notes
