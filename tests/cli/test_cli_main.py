"""The CLI's parsing and its single error boundary: every failure maps to a documented exit code."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from dhash_gha.cli import build_parser, main
from dhash_gha.cli._base import ArgumentParser, add_command, not_built
from dhash_gha.errors import (
    BadInput,
    CheckFailed,
    ConfigError,
    DhashError,
    RollbackFailed,
    RollbackPerformed,
)

DESIGN_COMMANDS = [
    ["backup", "create"],
    ["backup", "verify"],
    ["backup", "list"],
    ["backup", "latest"],
    ["backup", "prune"],
    ["preflight"],
    ["deploy"],
    ["migrate"],
    ["smoke"],
    ["monitor"],
    ["rollback"],
    ["service"],
    ["notify"],
    ["gates", "validate"],
    ["gates", "show"],
    ["gates", "replay"],
    ["config", "validate"],
    ["incident"],
    ["protection", "verify"],
    ["environment", "verify"],
    ["deployment"],
    ["status"],
    ["premerge"],
    ["provenance"],
    ["init"],
    ["rollout"],
    ["rehearse"],
]


@pytest.mark.parametrize("words", DESIGN_COMMANDS, ids=" ".join)
def test_every_designed_command_has_documented_help(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*words, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: dhash-gha " + " ".join(words))
    # a description, not just a usage line
    assert len(out.splitlines()) > 3


def test_top_level_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "130"):
        assert f"\n  {code}" in out


def test_unknown_subcommand_is_usage_error_with_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rolback", "--env", "production"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'rolback'" in err
    assert "did you mean 'rollback'?" in err


def test_missing_required_argument_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backup", "list"]) == 2
    assert "--env" in capsys.readouterr().err


def test_root_that_does_not_exist_names_the_fix(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope"
    code, _out, err = run_cli("--root", str(missing), "config", "validate")
    assert code == 2
    assert str(missing) in err and "--root" in err
    assert not missing.exists()


def test_root_defaults_to_dhash_root_env(example_workspace: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _err = run_cli("config", "validate", environ={"DHASH_ROOT": str(example_workspace)})
    assert code == 0, out
    assert "configuration valid" in out


def _parser_with(handler):  # type: ignore[no-untyped-def]
    parser = ArgumentParser(prog="t")
    sub = parser.add_subparsers(dest="command", required=True)
    add_command(sub, "go", "test command", handler)
    return parser


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (CheckFailed("a gate failed"), 1),
        (BadInput("bad"), 2),
        (ConfigError("bad config"), 2),
        (RollbackPerformed("rolled back"), 3),
        (RollbackFailed("rollback failed"), 4),
        (KeyboardInterrupt(), 130),
        (RuntimeError("bug"), 1),
    ],
)
def test_error_boundary_maps_exceptions_to_exit_codes(
    error: BaseException,
    code: int,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def handler(args: argparse.Namespace, ctx: object) -> int:
        raise error

    monkeypatch.setattr("dhash_gha.cli.build_parser", lambda *_: _parser_with(handler))
    assert main(["go"], environ={"DHASH_ROOT": str(tmp_path)}) == code
    err = capsys.readouterr().err
    if isinstance(error, DhashError):
        assert error.message in err


def test_tip_follows_the_error_on_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(args: argparse.Namespace, ctx: object) -> int:
        raise BadInput("the thing is wrong", tip="do the fix")

    monkeypatch.setattr("dhash_gha.cli.build_parser", lambda *_: _parser_with(handler))
    assert main(["go"], environ={"DHASH_ROOT": str(tmp_path)}) == 2
    err = capsys.readouterr().err
    assert err.index("the thing is wrong") < err.index("tip: do the fix")


def test_not_built_command_exits_2_saying_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("dhash_gha.cli.build_parser", lambda *_: _parser_with(not_built("go")))
    assert main(["go"], environ={"DHASH_ROOT": str(tmp_path)}) == 2
    assert "'go' is not built yet" in capsys.readouterr().err


def test_annotations_on_github_actions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(args: argparse.Namespace, ctx: object) -> int:
        raise CheckFailed("smoke test failed")

    monkeypatch.setattr("dhash_gha.cli.build_parser", lambda *_: _parser_with(handler))
    env = {"DHASH_ROOT": str(tmp_path), "GITHUB_ACTIONS": "true"}
    assert main(["go"], environ=env) == 1
    assert "::error title=dhash-gha go::smoke test failed" in capsys.readouterr().out


def test_parser_builds_without_importing_heavy_dependencies() -> None:
    code = (
        "import sys; from dhash_gha.cli import main; rc = main(['--help']);"
        "heavy = [m for m in ('httpx', 'github', 'jsonschema', 'PIL') if m in sys.modules];"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_config_validate_does_not_import_http_or_github(example_workspace: Path) -> None:
    code = (
        "import sys; from dhash_gha.cli import main;"
        f"rc = main(['--root', {str(example_workspace)!r}, 'config', 'validate']);"
        "heavy = [m for m in ('httpx', 'github') if m in sys.modules];"
        "print('RC', rc, 'HEAVY', heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "RC 0 HEAVY []" in result.stdout, result.stdout + result.stderr


def test_python_dash_m_entry_point(example_workspace: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dhash_gha",
            "--root",
            str(example_workspace),
            "config",
            "validate",
            "--env",
            "staging",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "configuration valid" in result.stdout


def test_build_parser_is_reusable() -> None:
    args = build_parser().parse_args(["--root", "x", "rollback", "--env", "production", "--force"])
    assert args.root == "x" and args.force and args.env == "production"


def test_command_index_matches_what_each_module_registers() -> None:
    """The index lists every command once, under the module that really registers it."""
    from dhash_gha.cli import command_module
    from dhash_gha.cli._index import COMMANDS

    by_module: dict[str, set[str]] = {}
    for name, (module_name, _summary) in COMMANDS.items():
        by_module.setdefault(module_name, set()).add(name)
    for module_name, names in by_module.items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        command_module(module_name).register(sub)
        assert set(sub.choices) == names, module_name
        for name in names:
            assert sub.choices[name].description == COMMANDS[name][1]


def test_running_a_command_imports_only_its_module() -> None:
    code = (
        "import sys; from dhash_gha.cli import main; main(['backup', '--help']);"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith('dhash_gha.cli.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "LOADED ['dhash_gha.cli._base', 'dhash_gha.cli._index', 'dhash_gha.cli.backup']" in (
        result.stdout
    ), result.stdout + result.stderr
