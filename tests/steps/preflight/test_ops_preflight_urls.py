"""Preflight's webhook probe on malformed URLs: a reason, never an exception or the URL."""

from __future__ import annotations

import pytest

from dhash_gha.steps.preflight import reachable


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example:SECRETPORT/services/SECRET",
        "https://hooks.example:99999/services/SECRET",
        "https://[SECRET/services/x",
    ],
)
def test_a_malformed_webhook_url_is_a_reason_without_the_secret(url: str) -> None:
    why = reachable(url, 1.0)
    assert why
    assert "SECRET" not in why
