"""Sidecar format and parsing (sha256sum -c --strict semantics), and exclude patterns."""

from __future__ import annotations

import pytest

from dhash_gha.core.archive.patterns import excluded
from dhash_gha.core.archive.sidecar import format_sidecar, parse_sidecar
from dhash_gha.errors import BadInput

NAME = "dhash_production_20260301_120000.zip"
HEX = "ab" * 32


def parse(text: str) -> str:
    return parse_sidecar(text, NAME, label="x.sha256")


def test_format_is_relative_to_the_workspace_root() -> None:
    assert format_sidecar(HEX, NAME) == f"{HEX}  backups/{NAME}\n"
    with pytest.raises(ValueError):
        format_sidecar(HEX.upper(), NAME)
    with pytest.raises(ValueError):
        format_sidecar(HEX, "backups/" + NAME)


@pytest.mark.parametrize(
    "text",
    [
        f"{HEX}  backups/{NAME}\n",
        f"{HEX}  backups/{NAME}\r\n",
        f"{HEX.upper()}  backups/{NAME}\n",
        f"{HEX} *backups/{NAME}\n",
        f"{HEX}  {NAME}",
        f"{HEX}  /somewhere/else/backups/{NAME}\n",
        f"SHA256 (backups/{NAME}) = {HEX}\n",
    ],
)
def test_accepted_forms(text: str) -> None:
    assert parse(text) == HEX


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("\n", "malformed"),
        (f"{HEX}  backups/{NAME}\n{HEX}  backups/{NAME}\n", "2 lines"),
        (f"{HEX}  backups/{NAME}\njunk\n", "2 lines"),
        (f"{HEX}  backups/other.zip\n", "not the backup"),
        (f"{HEX}  ../{NAME}\n", "not the backup"),
        (f"{HEX[:-1]}  backups/{NAME}\n", "malformed"),
        (f"{HEX}\tbackups/{NAME}\n", "malformed"),
        (f"md5 {HEX}  backups/{NAME}\n", "malformed"),
    ],
)
def test_refused_forms(text: str, why: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse(text)
    assert why in caught.value.message and "x.sha256" in caught.value.message


@pytest.mark.parametrize(
    ("path", "hit"),
    [
        ("src/a/__pycache__", True),
        ("src/a/__pycache__/x.pyc", True),
        ("src/x.pyc", True),
        ("deployments/production/dhash.pid", True),
        ("deployments/production/sub/dhash.pid", False),
        ("src/dhash.pid", False),
        ("src/app.py", False),
    ],
)
def test_exclude_patterns(path: str, hit: bool) -> None:
    patterns = ["**/__pycache__/**", "**/*.pyc", "deployments/*/dhash.pid"]
    assert excluded(path, patterns) is hit
