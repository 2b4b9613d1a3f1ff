"""Every `dhash-gha …` call in our actions and workflows names a command and flags that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from dhash_gha.cli import build_parser
from dhash_gha.errors import DhashError

REPO = Path(__file__).resolve().parents[2]
FILES = [
    REPO / "action.yml",
    *sorted((REPO / "actions").glob("*/action.yml")),
    *sorted((REPO / ".github" / "workflows").glob("*.yml")),
]


def _run_scripts(path: Path) -> list[str]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = list((doc.get("runs") or {}).get("steps", []))
    for job in (doc.get("jobs") or {}).values():
        steps += job.get("steps", [])
    return [str(s["run"]) for s in steps if "run" in s]


# What a "$VAR" stands for when the call is parsed (a value the flag accepts).
SAMPLE_VALUES = {"DHASH_STATE": "success", "DHASH_ENV": "staging"}


def invocations(script: str) -> list[list[str]]:
    """argv of each dhash-gha call; "$VAR" stands for a sample value."""
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        if "dhash-gha" not in line:
            continue
        tail = line[line.index("dhash-gha") + len("dhash-gha") :]
        tail = re.sub(r'"\$([A-Z_]+)"', lambda m: SAMPLE_VALUES.get(m.group(1), "1"), tail)
        calls.append(shlex.split(tail))
    return calls


def _check(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    if getattr(args, "command", None) == "gha" and getattr(args, "gha_action", None) == "run":
        inner = [a for a in args.argv if a != "--"]
        if inner:
            _check(inner)


def _all_calls() -> list[tuple[str, list[str]]]:
    calls = []
    for path in FILES:
        for script in _run_scripts(path):
            for argv in invocations(script):
                calls.append((f"{path.relative_to(REPO)}: {' '.join(argv)}", argv))
    return calls


CALLS = _all_calls()


def test_the_actions_call_the_cli() -> None:
    names = {argv[argv.index("--root") + 2] if "--root" in argv else argv[0] for _, argv in CALLS}
    assert {"premerge", "gha", "config", "backup", "deployment"} <= names
    for path in [REPO / "action.yml", *sorted((REPO / "actions").glob("*/action.yml"))]:
        for script in _run_scripts(path):
            assert "dhash-gha" in script or "install_dhash_gha.py" in script, script


@pytest.mark.parametrize("argv", [c[1] for c in CALLS], ids=[c[0] for c in CALLS])
def test_each_call_parses(argv: list[str]) -> None:
    _check(argv)


def test_the_check_rejects_a_flag_that_does_not_exist() -> None:
    (argv,) = invocations('dhash-gha --root "$DHASH_ROOT" premerge --no-such-flag')
    with pytest.raises(DhashError):
        _check(argv)
    (argv,) = invocations('dhash-gha gha run -- backup create --env "$E" --bogus')
    with pytest.raises(DhashError):
        _check(argv)
