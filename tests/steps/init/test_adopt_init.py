"""dhash-gha init: adoption in an existing repository."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

Cli = Callable[..., tuple[int, str, str]]
SHA = "0123456789abcdef0123456789abcdef01234567"


def test_init_writes_configs_shims_and_pinned_workflows(
    tmp_path: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    code, out, err = run_cli(
        "--root",
        str(tmp_path),
        "init",
        "--env",
        "production",
        "--env",
        "qa",
        "--action-repo",
        "acme/dhash-gha",
        "--action-sha",
        SHA,
        environ=clean_environ,
    )
    assert code == 0, err
    assert (tmp_path / "config" / "production" / "dhash.json").is_file()
    assert (tmp_path / "config" / "qa" / "dhash.json").is_file()
    gates = yaml.safe_load((tmp_path / "quality-gates-config.json").read_text(encoding="utf-8"))
    assert set(gates["environments"]) == {"production", "qa"}
    shim = tmp_path / "scripts" / "backup_dhash.sh"
    if os.name != "nt":
        assert shim.stat().st_mode & stat.S_IXUSR
    workflows = sorted(p.name for p in (tmp_path / ".github" / "workflows").iterdir())
    assert workflows == ["dhash-deploy.yml", "dhash-premerge.yml", "dhash-rollback.yml"]
    deploy = (tmp_path / ".github" / "workflows" / "dhash-deploy.yml").read_text(encoding="utf-8")
    assert f"uses: acme/dhash-gha/actions/deploy@{SHA} # v" in deploy
    assert "options: [production, qa]" in deploy
    for needed in (
        "required reviewers",
        "premerge-validation",
        "cross-platform-check",
        "DHASH_SLACK_WEBHOOK_URL",
        "protection verify",
        "environment verify",
    ):
        assert needed in out
    # the written workspace is valid as it stands
    code, _, err = run_cli("--root", str(tmp_path), "config", "validate", environ=clean_environ)
    assert code == 0, err


def test_init_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    existing = tmp_path / "scripts" / "deploy_dhash.sh"
    existing.parent.mkdir(parents=True)
    existing.write_text("# mine\n", encoding="utf-8")
    code, _, err = run_cli("--root", str(tmp_path), "init", environ=clean_environ)
    assert code == 2 and "scripts/deploy_dhash.sh" in err and "--force" in err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "scripts",
        "scripts/deploy_dhash.sh",
    ]
    assert existing.read_text(encoding="utf-8") == "# mine\n"
    code, _, err = run_cli("--root", str(tmp_path), "init", "--force", environ=clean_environ)
    assert code == 0, err
    assert "dhash-gha" in existing.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--action-sha", "abc"], "40-hex"),
        (["--action-repo", "not a repo"], "OWNER/NAME"),
        (["--env", "../prod"], "invalid environment name"),
    ],
)
def test_init_bad_input(
    args: list[str], fragment: str, tmp_path: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    code, _, err = run_cli("--root", str(tmp_path), "init", *args, environ=clean_environ)
    assert code == 2 and fragment in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX shim")
def test_written_shim_runs_the_cli(
    tmp_path: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    assert run_cli("--root", str(tmp_path), "init", environ=clean_environ)[0] == 0
    env = {**clean_environ, "DHASH_GHA": f"{sys.executable} -m dhash_gha"}
    done = subprocess.run(
        [str(tmp_path / "scripts" / "preflight_dhash.sh"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "preflight" in done.stdout
