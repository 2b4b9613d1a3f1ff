"""An environment's backups never include another environment's whose name extends it.

``prod`` and ``prod_eu`` are both valid environment names; ``dhash_prod_`` is a
prefix of ``dhash_prod_eu_…``. Listing, ``latest`` and prune must keep them apart.
"""

from __future__ import annotations

from pathlib import Path

from dhash_gha.adapters.archive.listing import prune_backups
from dhash_gha.adapters.workspace import Workspace


def make_backups(root: Path, names: list[str]) -> Workspace:
    folder = root / "backups"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes(b"zip")
    return Workspace.at(root)


def test_backups_of_an_environment_exclude_a_longer_named_one(tmp_path: Path) -> None:
    ws = make_backups(
        tmp_path,
        [
            "dhash_prod_20260101_120000.zip",
            "dhash_prod_eu_20260102_120000.zip",
            "dhash_prod-2_20260103_120000.zip",
        ],
    )
    assert [p.name for p in ws.backups("prod")] == ["dhash_prod_20260101_120000.zip"]
    assert [p.name for p in ws.backups("prod_eu")] == ["dhash_prod_eu_20260102_120000.zip"]


def test_prune_never_deletes_another_environments_backups(tmp_path: Path) -> None:
    ws = make_backups(
        tmp_path,
        [
            "dhash_prod_20260101_120000.zip",
            "dhash_prod_20260101_130000.zip",
            "dhash_prod_eu_20260102_120000.zip",
        ],
    )
    plan = prune_backups(ws, "prod", keep=1)
    assert [p.name for p in plan.delete] == ["dhash_prod_20260101_120000.zip"]
    assert (ws.backups_dir / "dhash_prod_eu_20260102_120000.zip").exists()
