"""Config files are strict JSON: values that would switch a guard off are refused at load."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., tuple[int, str, str]]


def _gates_text(workspace: Path) -> str:
    return (workspace / "quality-gates-config.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"threshold": 5,', '"threshold": NaN,', "NaN"),
        ('"threshold": 5,', '"threshold": Infinity,', "Infinity"),
        ('"threshold": 5,', '"threshold": -Infinity,', "Infinity"),
        ('"threshold": 5,', '"threshold": 1e400,', "1e400"),
        ('"duration_minutes": 60,', '"duration_minutes": NaN,', "NaN"),
    ],
)
def test_non_finite_gate_values_are_refused_naming_file_and_path(
    example_workspace: Path, run_cli: Cli, old: str, new: str, expected: str
) -> None:
    path = example_workspace / "quality-gates-config.json"
    text = _gates_text(example_workspace)
    assert old in text
    before = text.replace(old, new, 1)
    path.write_text(before, encoding="utf-8")
    for argv in (("gates", "validate"), ("config", "validate")):
        code, _, err = run_cli("--root", str(example_workspace), *argv)
        assert code == 2, err
        assert "quality-gates-config.json" in err and expected in err and "$.environments" in err
        assert "finite number" in err
    assert path.read_text(encoding="utf-8") == before  # nothing changed


def test_non_finite_environment_timeout_is_refused(example_workspace: Path, run_cli: Cli) -> None:
    path = example_workspace / "config" / "production" / "dhash.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"timeout_seconds": 2.0', '"timeout_seconds": NaN', 1), "utf-8")
    code, _, err = run_cli("--root", str(example_workspace), "config", "validate")
    assert code == 2
    assert "dhash.json" in err and "$.health.timeout_seconds" in err and "NaN" in err


def test_a_duplicate_section_is_refused_naming_the_key(
    example_workspace: Path, run_cli: Cli
) -> None:
    path = example_workspace / "quality-gates-config.json"
    data = json.loads(_gates_text(example_workspace))
    staging = json.dumps(data["environments"]["staging"])
    text = _gates_text(example_workspace).replace(
        '"staging": {', f'"staging": {staging}, "staging": {{', 1
    )
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli("--root", str(example_workspace), "gates", "validate")
    assert code == 2
    assert "duplicate key 'staging'" in err and "$.environments" in err


def test_a_deeply_nested_config_is_a_clear_error(example_workspace: Path, run_cli: Cli) -> None:
    path = example_workspace / "quality-gates-config.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    code, _, err = run_cli("--root", str(example_workspace), "gates", "validate")
    assert code == 2
    assert "nested deeper" in err and "RecursionError" not in err


def test_a_syntax_error_still_names_line_and_column(example_workspace: Path, run_cli: Cli) -> None:
    path = example_workspace / "quality-gates-config.json"
    path.write_text('{\n  "environments": {,\n}', encoding="utf-8")
    code, _, err = run_cli("--root", str(example_workspace), "gates", "validate")
    assert code == 2
    assert "line 2 column" in err
