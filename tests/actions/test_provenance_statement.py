"""The in-toto / SLSA v1 provenance statement."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dhash_gha import __version__
from dhash_gha.errors import BadInput
from dhash_gha.steps.provenance import (
    LOCAL_BUILDER_ID,
    Invocation,
    Subject,
    build_statement,
    collect_subjects,
    ffmpeg_version,
    tool_versions,
)

Cli = Callable[..., tuple[int, str, str]]
GITHUB_ENV = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/dhash",
    "GITHUB_WORKFLOW_REF": "acme/dhash/.github/workflows/premerge.yml@refs/pull/7/merge",
    "GITHUB_REF": "refs/pull/7/merge",
    "GITHUB_RUN_ID": "123",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_EVENT_NAME": "pull_request",
    "GITHUB_SHA": "a" * 40,
    "RUNNER_OS": "Windows",
    "RUNNER_ARCH": "ARM64",
}
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_statement_on_github_actions() -> None:
    statement = build_statement(
        [Subject("b.zip", "1" * 64), Subject("a.zip", "2" * 64)],
        Invocation.from_environ(GITHUB_ENV),
        git_commit="a" * 40,
        tools={"python": "3.12.1", "dhash-gha": "0.1.0"},
        started=T0,
        finished=T0,
    )
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert [s["name"] for s in statement["subject"]] == ["a.zip", "b.zip"]
    assert statement["subject"][0]["digest"] == {"sha256": "2" * 64}
    definition = statement["predicate"]["buildDefinition"]
    assert definition["externalParameters"]["workflow"] == {
        "ref": "refs/pull/7/merge",
        "repository": "https://github.com/acme/dhash",
        "path": ".github/workflows/premerge.yml",
    }
    github = definition["internalParameters"]["github"]
    assert github["event_name"] == "pull_request" and github["run_attempt"] == "2"
    assert github["runner_os"] == "Windows" and github["runner_arch"] == "ARM64"
    assert definition["resolvedDependencies"][0]["digest"] == {"gitCommit": "a" * 40}
    details = statement["predicate"]["runDetails"]
    assert details["builder"]["id"] == "https://github.com/" + GITHUB_ENV["GITHUB_WORKFLOW_REF"]
    assert (
        details["metadata"]["invocationId"]
        == "https://github.com/acme/dhash/actions/runs/123/attempts/2"
    )
    assert details["builder"]["version"]["python"] == "3.12.1"


def test_statement_locally_has_no_invocation_id() -> None:
    statement = build_statement(
        [Subject("x", "0" * 64)],
        Invocation.from_environ({}),
        git_commit=None,
        tools={},
        started=T0,
        finished=T0,
    )
    details = statement["predicate"]["runDetails"]
    assert (
        details["builder"]["id"] == LOCAL_BUILDER_ID and "invocationId" not in details["metadata"]
    )
    assert statement["predicate"]["buildDefinition"]["resolvedDependencies"] == []


def test_no_subject_is_bad_input() -> None:
    with pytest.raises(BadInput, match="at least one subject"):
        build_statement([], Invocation(), git_commit=None, tools={}, started=T0, finished=T0)


def test_subjects_hash_files_and_directories(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one.log").write_bytes(b"one")
    (tmp_path / "top.zip").write_bytes(b"zip")
    subjects = collect_subjects([tmp_path / "d", tmp_path / "top.zip"], tmp_path)
    assert {s.name: s.sha256 for s in subjects} == {
        "d/one.log": hashlib.sha256(b"one").hexdigest(),
        "top.zip": hashlib.sha256(b"zip").hexdigest(),
    }
    with pytest.raises(BadInput, match="does not exist"):
        collect_subjects([tmp_path / "missing"], tmp_path)


def test_tool_versions() -> None:
    tools = tool_versions(ffmpeg_version())
    assert tools["dhash-gha"] == __version__ and tools["python"].count(".") == 2
    import shutil

    if shutil.which("ffmpeg"):
        assert tools["ffmpeg"] and " " not in tools["ffmpeg"]
    assert "ffmpeg" not in tool_versions(None)


def test_ffmpeg_absent_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    assert ffmpeg_version() is None


def test_provenance_cli_for_the_latest_backup(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str], tmp_path: Path
) -> None:
    code, _, err = run_cli(
        "--root", str(example_workspace), "provenance", "--env", "staging", environ=clean_environ
    )
    assert code == 2 and "no backup" in err
    assert (
        run_cli(
            "--root",
            str(example_workspace),
            "backup",
            "create",
            "--env",
            "staging",
            environ=clean_environ,
        )[0]
        == 0
    )
    out = tmp_path / "prov.json"
    code, _, err = run_cli(
        "--root",
        str(example_workspace),
        "provenance",
        "--env",
        "staging",
        "--output",
        str(out),
        environ={**clean_environ, **GITHUB_ENV},
    )
    assert code == 0, err
    statement = json.loads(out.read_text(encoding="utf-8"))
    names = [s["name"] for s in statement["subject"]]
    assert (
        len(names) == 2
        and names[0].startswith("backups/dhash_staging_")
        and names[1].endswith(".sha256")
    )
    backup = example_workspace / names[0]
    assert (
        statement["subject"][0]["digest"]["sha256"]
        == hashlib.sha256(backup.read_bytes()).hexdigest()
    )
