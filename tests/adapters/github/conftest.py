"""Fixtures of the GitHub tests: the fake GitHub API server and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_github import SHAPES_ENV, FakeGitHub, shapes_dir


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    shapes = shapes_dir()
    if shapes is None:
        pytest.fail(
            f"GitHub API shapes not found: expected tests/support/github_api, or set {SHAPES_ENV}"
        )
    fake = FakeGitHub(shapes).start()
    try:
        yield fake
    finally:
        fake.stop()
    assert not fake.validation_failures, (
        f"request bodies GitHub would reject: {fake.validation_failures}"
    )
    assert not fake.unrouted, f"requests to endpoints outside the shapes: {fake.unrouted}"
