"""A rollback can itself be undone: its pre-rollback archive is a verified restore source."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from ops_helpers import ENV, fingerprint, stop_all, tune_for_tests

from dhash_gha.adapters.workspace import Workspace

Cli = Callable[..., tuple[int, str, str]]
NEW_FILE = Path("src") / "dhash_app" / "release_two.py"


@pytest.fixture
def ws_root(example_workspace: Path) -> Iterator[Path]:
    tune_for_tests(example_workspace)
    yield example_workspace
    stop_all(example_workspace)


def _healthy(root: Path) -> bool:
    config = json.loads((root / "config" / ENV / "dhash.json").read_text(encoding="utf-8"))
    try:
        return httpx.get(config["health"]["url"], timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _rolled_back_twice_deployed(run_cli: Cli, root: Path, environ: dict[str, str]) -> Path:
    """Deploy release one, then release two, roll back to one: the archive holds release two."""
    for release in (1, 2):
        if release == 2:
            (root / NEW_FILE).write_text("RELEASE = 2\n", encoding="utf-8")
        code, out, err = run_cli(
            "--root", str(root), "deploy", "--env", ENV, "--no-monitor", environ=environ
        )
        assert code == 0, out + err
    code, out, err = run_cli(
        "--root", str(root), "rollback", "--env", ENV, "--force", "--backup",
        _pre_deploy_backup(root), environ=environ,
    )  # fmt: skip
    assert code == 0, out + err
    assert not (root / NEW_FILE).exists()
    archives = sorted((root / "rollbacks").glob(f"pre_rollback_{ENV}_*.tar.gz"))
    assert archives and Workspace.sidecar(archives[-1]).is_file()
    return archives[-1]


def _pre_deploy_backup(root: Path) -> str:
    record = json.loads((root / "deployments" / ENV / "current_release.json").read_text("utf-8"))
    return str(record["pre_deploy_backup"])


def test_restoring_the_pre_rollback_archive_undoes_the_rollback(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    archive = _rolled_back_twice_deployed(run_cli, ws_root, clean_environ)
    code, out, err = run_cli(
        "--root", str(ws_root), "rollback", "--env", ENV, "--force", "--backup",
        f"rollbacks/{archive.name}", environ=clean_environ,
    )  # fmt: skip
    assert code == 0, out + err
    assert "UNVERIFIED" not in out + err
    assert (ws_root / NEW_FILE).read_text(encoding="utf-8") == "RELEASE = 2\n"
    assert _healthy(ws_root)
    history = (ws_root / ".dhash-state" / ENV / "deploy_history.jsonl").read_text("utf-8")
    last = json.loads(history.strip().splitlines()[-1])
    assert last["type"] == "rollback" and last["backup"] == f"rollbacks/{archive.name}"


def test_a_changed_pre_rollback_archive_is_refused_and_nothing_is_touched(
    ws_root: Path, run_cli: Cli, clean_environ: dict[str, str]
) -> None:
    archive = _rolled_back_twice_deployed(run_cli, ws_root, clean_environ)
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    before = fingerprint(ws_root, skip=("logs/", ".dhash-state/", "notifications/"))
    code, _out, err = run_cli(
        "--root", str(ws_root), "rollback", "--env", ENV, "--force", "--backup",
        f"rollbacks/{archive.name}", environ=clean_environ,
    )  # fmt: skip
    assert code == 1
    assert "does not match its .sha256 sidecar" in err
    assert fingerprint(ws_root, skip=("logs/", ".dhash-state/", "notifications/")) == before
    assert _healthy(ws_root)


@pytest.mark.parametrize(
    "value",
    [
        "rollbacks/pre_rollback_staging_20260101_000000.tar.gz",
        "rollbacks/../backups/x.tar.gz",
        "rollbacks/evil_production_20260101_000000.tar.gz",
    ],
)
def test_only_this_environments_pre_rollback_archives_are_accepted(
    example_workspace: Path, run_cli: Cli, value: str
) -> None:
    rollbacks = example_workspace / "rollbacks"
    rollbacks.mkdir()
    for name in ("pre_rollback_staging_20260101_000000.tar.gz",
                 "evil_production_20260101_000000.tar.gz"):  # fmt: skip
        (rollbacks / name).write_bytes(b"\x1f\x8b")
    before = fingerprint(example_workspace)
    code, _out, err = run_cli(
        "--root", str(example_workspace), "rollback", "--env", ENV, "--backup", value, "--force"
    )
    assert code == 2 and "is not a backup of 'production'" in err
    assert fingerprint(example_workspace) == before
