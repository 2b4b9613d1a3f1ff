"""gha run / backup-name / waves: the pure helpers and their CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from dhash_composite_runner import parse_output_file

from dhash_gha.adapters.ghactions import check_backup_name, plan_waves, result_for, split_command
from dhash_gha.errors import BadInput

Cli = Callable[..., tuple[int, str, str]]


@pytest.mark.parametrize(
    "name",
    [
        "latest",
        "dhash_staging_20260101_120000.zip",
        "dhash_staging_20260101_120000_2.zip",
        "dhash_staging_manual_20260101_120000.tar.gz",
    ],
)
def test_backup_names_accepted(name: str) -> None:
    assert check_backup_name("staging", name) == name


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "$(id)",
        "",
        "backups/dhash_staging_20260101_120000.zip",
        "/tmp/x.zip",
        "dhash_production_20260101_120000.zip",
        "dhash_staging_20260101_120000.zip/../../x",
        "dhash_staging_20260101_120000.zip\n",
        "C:\\x\\dhash_staging_20260101_120000.zip",
        "dhash_staging_2026010_120000.zip",
        "DHASH_staging_20260101_120000.zip",
    ],
)
def test_backup_names_refused(name: str) -> None:
    if name.endswith("\n"):
        name = name + "x"
    with pytest.raises(BadInput, match="not a backup name"):
        check_backup_name("staging", name)


def test_backup_name_must_exist(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    env = {**clean_environ, "GITHUB_OUTPUT": str(out)}
    code, _, err = run_cli(
        "--root",
        str(example_workspace),
        "gha",
        "backup-name",
        "--env",
        "staging",
        "--name",
        "dhash_staging_20260101_120000.zip",
        environ=env,
    )
    assert code == 2 and "does not exist" in err
    code, _, err = run_cli(
        "--root",
        str(example_workspace),
        "gha",
        "backup-name",
        "--env",
        "staging",
        "--name",
        "latest",
        environ=env,
    )
    assert code == 2 and "has no backup" in err
    assert not out.exists() or parse_output_file(out) == {}


def test_split_command_refusals() -> None:
    assert split_command("backup create --env 'my env'") == ["backup", "create", "--env", "my env"]
    for text, fragment in [
        ("", "empty"),
        ("'open", "cannot split"),
        ("dhash-gha backup", "starts with"),
        ("--root /etc config validate", "--root"),
        ("backup --root=/x", "--root"),
    ]:
        with pytest.raises(BadInput, match=fragment):
            split_command(text)


def test_result_names() -> None:
    assert [result_for(c) for c in (0, 1, 2, 3, 4, 130, 99)] == [
        "success",
        "failure",
        "bad-input",
        "rolled-back",
        "rollback-failed",
        "interrupted",
        "failure",
    ]


def test_waves_single_host_uses_runner_labels() -> None:
    waves = plan_waves("", '["self-hosted","dhash"]')
    assert waves.canary == ["self-hosted", "dhash"] and waves.rest == []
    assert plan_waves("", "").canary == ["ubuntu-latest"]
    assert waves.as_outputs()["has-rest"] == "false"


def test_waves_fleet_canary_first() -> None:
    waves = plan_waves("dhash-01, dhash-02 dhash-03")
    assert waves.canary == ["self-hosted", "dhash-01"]
    assert [w["host"] for w in waves.rest] == ["dhash-02", "dhash-03"]
    assert json.loads(waves.as_outputs()["rest"])[0]["runs-on"] == ["self-hosted", "dhash-02"]
    assert plan_waves('["a","b"]').canary == ["self-hosted", "a"]


@pytest.mark.parametrize(
    ("hosts", "labels", "fragment"),
    [
        ("[1,2]", "", "list of strings"),
        ("[", "", "not valid JSON"),
        ("a,a", "", "twice"),
        ("a;id", "", "not a runner label"),
        ("", "[]", "non-empty"),
        ("", '["$(id)"]', "not valid"),
    ],
)
def test_waves_bad_input(hosts: str, labels: str, fragment: str) -> None:
    with pytest.raises(BadInput, match=fragment):
        plan_waves(hosts, labels)


def test_gha_waves_cli_sets_outputs(
    run_cli: Cli, clean_environ: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    env = {**clean_environ, "GITHUB_OUTPUT": str(out), "HOSTS": "h1,h2"}
    code, stdout, _ = run_cli(
        "--root", str(tmp_path), "gha", "waves", "--hosts-from-env", "HOSTS", environ=env
    )
    assert code == 0 and "h1" in stdout
    outputs = parse_output_file(out)
    assert json.loads(outputs["canary-runs-on"]) == ["self-hosted", "h1"]
    assert outputs["has-rest"] == "true"


def test_gha_run_needs_a_command(
    run_cli: Cli, tmp_path: Path, clean_environ: dict[str, str]
) -> None:
    code, _, err = run_cli("--root", str(tmp_path), "gha", "run", environ=clean_environ)
    assert code == 2 and "no command" in err
    code, _, err = run_cli(
        "--root", str(tmp_path), "gha", "run", "--", "gha", "waves", environ=clean_environ
    )
    assert code == 2 and "cannot run another" in err


def test_gha_run_output_is_multiline_safe(
    example_workspace: Path, run_cli: Cli, clean_environ: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary = tmp_path / "summary.md"
    env = {
        **clean_environ,
        "GITHUB_OUTPUT": str(out),
        "GITHUB_STEP_SUMMARY": str(summary),
        "CMD": "config validate --env staging",
    }
    code, _, _ = run_cli(
        "--root", str(example_workspace), "gha", "run", "--from-env", "CMD", environ=env
    )
    assert code == 0
    outputs = parse_output_file(out)
    assert outputs["result"] == "success" and outputs["exit-code"] == "0"
    assert "ghadelimiter_" in out.read_text(encoding="utf-8")
    assert "dhash-gha config validate --env staging" in summary.read_text(encoding="utf-8")


def test_outputs_collected_from_the_workspace(example_workspace: Path) -> None:
    from dhash_gha.adapters.ghactions import Before, collect_outputs
    from dhash_gha.adapters.workspace import Workspace

    ws = Workspace.at(example_workspace)
    before = Before.snapshot(ws, "staging")
    folder = ws.notifications_dir
    folder.mkdir(parents=True)
    record = {
        "channels": [
            {
                "name": "ops-slack",
                "type": "slack",
                "status": "delivered",
                "link": "https://x.invalid/",
            },
            {
                "name": "incident-issue",
                "type": "github_issue",
                "status": "delivered",
                "link": "https://github.com/acme/dhash/issues/7",
            },
        ]
    }
    (folder / "20260101_000000_staging_rollback_abc.json").write_text(
        json.dumps(record), encoding="utf-8"
    )
    (ws.incidents_dir / "INC-20260101-000000").mkdir(parents=True)
    ws.release_record("staging").parent.mkdir(parents=True, exist_ok=True)
    ws.release_record("staging").write_text(json.dumps({"release_id": "r1"}), encoding="utf-8")
    outputs = collect_outputs(ws, "staging", before, 3)
    assert outputs["result"] == "rolled-back" and outputs["exit-code"] == "3"
    assert outputs["incident-url"] == "https://github.com/acme/dhash/issues/7"
    assert outputs["incident-id"] == "INC-20260101-000000"
    assert outputs["incident-path"] == "incidents/INC-20260101-000000"
    assert outputs["release-id"] == "r1" and outputs["backup-path"] == ""
    # what existed before the step is not this step's
    assert collect_outputs(ws, "staging", Before.snapshot(ws, "staging"), 0)["incident-url"] == ""
