"""The pre-merge run: every step recorded, the run goes on after a failure, the bundle."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from dhash_composite_runner import parse_output_file

from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.compose.premerge import (
    STEP_NAMES,
    PremergeOptions,
    prepare_artifacts,
    run_premerge,
    validate_log_lines,
)
from dhash_gha.core.clock import FakeClock
from dhash_gha.errors import BadInput

Cli = Callable[..., tuple[int, str, str]]


class FakeCli:
    """Stands in for the in-process CLI: records calls, fails the commands it is told to."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], environ: Mapping[str, str], log: Path) -> int:
        self.calls.append(list(argv))
        command = argv[2]
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            if command in self.failing:
                handle.write(f"❌ {command} broke\n")
                return 1
            handle.write(f"✅ {command}\n")
        return 0


def _run(ws: Path, cli: FakeCli, environ: dict[str, str], **options: object) -> tuple[int, Path]:
    report = run_premerge(
        Workspace.at(ws),
        PremergeOptions(**options),  # type: ignore[arg-type]
        environ=environ,
        clock=FakeClock(),
        reporter=Reporter(environ, quiet=True),
        cli=cli,
    )
    return report.exit_code, report.artifacts


def test_a_failed_step_does_not_stop_the_run(
    example_workspace: Path, clean_environ: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    environ = {
        **clean_environ,
        "GITHUB_OUTPUT": str(out),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md"),
    }
    cli = FakeCli(failing={"deploy"})
    code, artifacts = _run(example_workspace, cli, environ)
    assert code == 1
    summary = (artifacts / "summary.md").read_text(encoding="utf-8")
    for name in STEP_NAMES:
        assert f"| {name} |" in summary
    assert (
        "| deploy-dry-run | ❌ fail | 'dhash-gha deploy --env staging --dry-run' exited with 1: ❌ deploy broke"
        in summary
    )
    assert "| notify-dry-run | ✅ pass" in summary  # ran after the failure
    assert "| smoke | ❌ fail" in summary  # the scratch deploy is the same fake command
    assert "| protection | ⏭️ skipped" in summary
    commands = [c[2] for c in cli.calls]
    assert commands[:2] == ["deploy", "migrate"] and "notify" in commands
    outputs = parse_output_file(out)
    assert outputs["result"] == "failure" and outputs["exit-code"] == "1"
    assert (artifacts / "provenance.json").is_file()
    statement = json.loads((artifacts / "provenance.json").read_text(encoding="utf-8"))
    names = {s["name"] for s in statement["subject"]}
    assert any(n.endswith(".zip") for n in names) and any(n.endswith(".zip.sha256") for n in names)
    assert "deploy_dry_run.log" in names
    assert (tmp_path / "s.md").read_text(encoding="utf-8").startswith("## dhash-gha pre-merge")


def test_all_pass_and_protection_runs_with_a_token(
    example_workspace: Path, clean_environ: dict[str, str]
) -> None:
    cli = FakeCli(failing=set())
    environ = {**clean_environ, "GITHUB_TOKEN": "t0ken"}
    code, artifacts = _run(
        example_workspace,
        cli,
        environ,
        repo="acme/dhash",
        branch="main",
        skip=frozenset({"logging"}),
    )
    assert code == 0
    assert [
        "protection",
        "verify",
        "--repo",
        "acme/dhash",
        "--branch",
        "main",
        "--allow-unchecked",
    ] in [c[2:] for c in cli.calls]
    summary = (artifacts / "summary.md").read_text(encoding="utf-8")
    assert (
        "| protection | ✅ pass" in summary
        and "| logging | ⏭️ skipped | skipped with --skip" in summary
    )
    assert "t0ken" not in "".join(
        p.read_text(encoding="utf-8", errors="replace") for p in artifacts.glob("*.log")
    )


def test_bad_options(example_workspace: Path, clean_environ: dict[str, str]) -> None:
    with pytest.raises(BadInput, match="unknown step"):
        _run(example_workspace, FakeCli(set()), clean_environ, skip=frozenset({"nope"}))
    with pytest.raises(BadInput, match="unknown environment"):
        _run(example_workspace, FakeCli(set()), clean_environ, env="qa")


def test_artifacts_dir_is_never_an_unrelated_directory(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "precious.txt").write_text("x", encoding="utf-8")
    with pytest.raises(BadInput, match="not an earlier pre-merge bundle"):
        prepare_artifacts(folder)
    assert (folder / "precious.txt").exists()
    (folder / "precious.txt").unlink()
    (folder / "summary.md").write_text("old", encoding="utf-8")
    (folder / "old.log").write_text("old", encoding="utf-8")
    assert list(prepare_artifacts(folder).iterdir()) == []


def test_log_validation() -> None:
    good_service = ["2026-01-01T00:00:00Z INFO request=1 hash_time=12.5ms"]
    good_tool = ['ts=2026-01-01T00:00:00Z level=INFO event=start message="a b"']
    assert validate_log_lines(good_service, good_tool) == []
    problems = validate_log_lines(["no level here"], ['ts=1 level=INFO msg="open', "ts=1 event=x"])
    assert any("has no level" in p for p in problems)
    assert any("hash_time" in p for p in problems)
    assert any("not logfmt" in p for p in problems)
    assert any("lacks level" in p for p in problems)
    assert validate_log_lines([], []) == ["the component wrote no service log line"]


def test_premerge_cli_fork_pr_without_token(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    code, _, err = run_cli(
        "--root",
        str(example_workspace),
        "premerge",
        "--skip",
        "smoke",
        "--repo",
        "acme/dhash",
        "--branch",
        "main",
        environ=clean_environ,
    )
    assert "fork pull requests get no secrets" in err
    summary = (example_workspace / "premerge_artifacts" / "summary.md").read_text(encoding="utf-8")
    assert "| protection | ⏭️ skipped" in summary
    assert "| backup | ✅ pass" in summary, summary
    assert code == 0, summary
