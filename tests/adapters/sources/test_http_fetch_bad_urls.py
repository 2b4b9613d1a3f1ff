"""fetch_text on a malformed URL: an error naming the problem, never an exception or a password."""

from __future__ import annotations

import pytest

from dhash_gha.adapters.sources.http_fetch import fetch_text


@pytest.mark.parametrize(
    "url",
    ["http://user:SECRET@127.0.0.1:abc/x", "http://user:SECRET@[::1/x", "http://h:70000/x"],
)
def test_a_malformed_url_is_an_error_not_an_exception(url: str) -> None:
    fetched = fetch_text(url, 1.0, {"query": "up"})
    assert fetched.text is None
    assert fetched.error
    assert "SECRET" not in fetched.error
