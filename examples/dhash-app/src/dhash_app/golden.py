"""Golden validation: send the golden images to a running service and compare hashes.

Stable API (used by the smoke tests)::

    from dhash_app.golden import validate
    result = validate("http://127.0.0.1:8780", golden_dir=Path("golden"), timeout=10.0)
    result.ok, result.checked, result.failures, result.to_dict()

Images are sent with ``?store=0``: the check looks up only and never adds to
the hash library or the review queue.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dhash_app.http_client import post_bytes

EXPECTED_FILE = "expected.json"


class GoldenError(Exception):
    """The golden set itself is missing or malformed (not a service failure)."""


@dataclass(frozen=True)
class GoldenCase:
    file: str
    expected: str
    actual: str | None
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.actual == self.expected


@dataclass
class GoldenResult:
    url: str
    golden_dir: str
    cases: list[GoldenCase] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return len(self.cases)

    @property
    def failures(self) -> list[GoldenCase]:
        return [case for case in self.cases if not case.ok]

    @property
    def ok(self) -> bool:
        return bool(self.cases) and not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "url": self.url,
            "golden_dir": self.golden_dir,
            "checked": self.checked,
            "failed": len(self.failures),
            "cases": [asdict(case) | {"ok": case.ok} for case in self.cases],
        }

    def lines(self) -> list[str]:
        out = []
        for case in self.cases:
            if case.ok:
                out.append(f"ok       {case.file} {case.expected}")
            else:
                why = case.error or f"expected {case.expected}, got {case.actual}"
                out.append(f"MISMATCH {case.file}: {why}")
        verdict = "golden validation passed" if self.ok else "golden validation FAILED"
        out.append(
            f"{verdict}: {self.checked - len(self.failures)}/{self.checked} images match ({self.url})"
        )
        return out


def default_golden_dir() -> Path:
    """``golden/`` of the workspace this package lives in (src/dhash_app → ../../golden)."""
    return Path(__file__).resolve().parents[2] / "golden"


def load_expected(golden_dir: Path) -> list[tuple[Path, str]]:
    expected_file = golden_dir / EXPECTED_FILE
    try:
        data = json.loads(expected_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GoldenError(
            f"{expected_file} not found: pass --golden-dir pointing at the golden set "
            "(generate it with python golden/generate.py)"
        ) from None
    except json.JSONDecodeError as exc:
        raise GoldenError(f"{expected_file} is not valid JSON: {exc}") from None
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list) or not images:
        raise GoldenError(
            f'{expected_file} must hold {{"images": [{{"file": ..., "dhash": ...}}, ...]}}'
        )
    cases = []
    for entry in images:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("file"), str)
            or not isinstance(entry.get("dhash"), str)
        ):
            raise GoldenError(f"{expected_file}: bad entry {entry!r} (needs 'file' and 'dhash')")
        path = golden_dir / entry["file"]
        if not path.is_file():
            raise GoldenError(f"{expected_file} lists {entry['file']!r} but {path} does not exist")
        cases.append((path, entry["dhash"].lower()))
    return cases


def validate(
    base_url: str, *, golden_dir: Path | None = None, timeout: float = 10.0
) -> GoldenResult:
    """POST each golden image to ``{base_url}/hash?store=0`` and compare with expected.json."""
    folder = golden_dir or default_golden_dir()
    url = base_url.rstrip("/") + "/hash?store=0"
    result = GoldenResult(url=base_url, golden_dir=str(folder))
    for path, expected in load_expected(folder):
        reply = post_bytes(url, path.read_bytes(), timeout=timeout)
        actual = reply.body.get("dhash") if reply.body else None
        error = reply.error
        if reply.status != 200 and reply.body and reply.body.get("error"):
            error = f"HTTP {reply.status}: {reply.body['error']}"
        result.cases.append(
            GoldenCase(
                path.name,
                expected,
                actual if isinstance(actual, str) else None,
                reply.status,
                error,
            )
        )
    return result
