"""Fixtures of the monitor tests: a workspace with a release record, a fake clock, a reporter."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dhash_gha.adapters.releases import write_release
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock


@pytest.fixture
def ws(example_workspace: Path) -> Workspace:
    workspace = Workspace.at(example_workspace)
    for env in ("production", "staging"):
        write_release(
            workspace,
            env,
            {
                "release_id": "r-2",
                "git_commit": None,
                "deployed_at": "2026-01-01T00:00:00Z",
                "pre_deploy_backup": f"backups/dhash_{env}_20260101_000000.zip",
                "migration_version": "0000",
                "config_sha256": "0" * 64,
            },
        )
    return workspace


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def reporter(clock: FakeClock) -> Reporter:
    return Reporter({}, stream=io.StringIO(), err_stream=io.StringIO(), clock=clock)
