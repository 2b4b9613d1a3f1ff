"""The GitHub issue channel end to end, against the fake GitHub API (request bodies validated)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dhash_gha.adapters.channels import notify
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock

TOKEN = "ghs_notifyIntegrationTokenNeverWritten"


@pytest.fixture
def fake_api() -> Iterator[Any]:
    from fake_github import FakeGitHub, shapes_dir

    shapes = shapes_dir()
    if shapes is None:
        pytest.fail("GitHub API shapes not found (tests/support/github_api)")
    fake = FakeGitHub(shapes).start()
    try:
        yield fake
    finally:
        fake.stop()
    assert not fake.validation_failures, fake.validation_failures
    assert not fake.unrouted, fake.unrouted


def test_rollback_opens_then_comments_on_the_incident_issue(
    example_workspace: Path, clean_environ: dict[str, str], fake_api: Any
) -> None:
    ws = Workspace.at(example_workspace)
    environ = {
        **clean_environ,
        "GITHUB_REPOSITORY": "acme/dhash",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": fake_api.url,
    }
    clock = FakeClock()
    details = {"release": "r-7", "gate": "low_confidence_queue", "value": 1500, "threshold": 1000}

    def send() -> Any:
        return notify(
            ws,
            "production",
            "rollback",
            "queue flooded; rolled back",
            environ=environ,
            clock=clock,
            reporter=Reporter(environ, stream=io.StringIO(), err_stream=io.StringIO(), clock=clock),
            details=details,
        )

    first = send()
    issue_result = next(r for r in first.results if r.type == "github_issue")
    assert issue_result.status == "delivered", issue_result.reason
    assert len(fake_api.issues) == 1
    issue = fake_api.issues[0]
    assert issue_result.link == issue["html_url"]
    assert issue["title"] == "[production] Rollback: release r-7"
    assert "low_confidence_queue: 1500 vs threshold 1000" in issue["body"]
    second = send()
    assert [r.status for r in second.results if r.type == "github_issue"] == ["delivered"]
    assert len(fake_api.issues) == 1 and len(fake_api.comments) == 1
    for path in example_workspace.rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_bytes().decode("utf-8", errors="replace")
