"""A list of named checks with ✅/❌, a detail and the fix: preflight and smoke tests print these."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    at: str = ""

    @property
    def mark(self) -> str:
        return "✅" if self.ok else "❌"

    def line(self) -> str:
        text = (
            f"{self.mark} {self.at} {self.name}: {self.detail}"
            if self.at
            else (f"{self.mark} {self.name}: {self.detail}")
        )
        if not self.ok and self.fix:
            text += f" — fix: {self.fix}"
        return text


def failed(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.ok]


def as_json(results: Sequence[CheckResult], **extra: Any) -> str:
    payload = {**extra, "ok": not failed(results), "checks": [asdict(r) for r in results]}
    return json.dumps(payload, indent=2, ensure_ascii=False)


def as_markdown(title: str, results: Sequence[CheckResult]) -> str:
    """A job-summary table: one row per check."""
    rows = [f"### {title}", "", "| | check | detail | fix |", "|---|---|---|---|"]
    for r in results:
        cells = [r.mark, r.name, r.detail, r.fix if not r.ok and r.fix else ""]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
