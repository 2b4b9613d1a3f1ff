"""Golden validation against a component that does not answer is not a hash mismatch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dhash_gha.steps.smoke import golden_failure

Cli = Callable[..., tuple[int, str, str]]


def test_requests_that_all_failed_are_not_called_mismatches() -> None:
    payload = {
        "cases": [
            {"file": "a.png", "ok": False, "error": "URLError: [Errno 111] Connection refused"},
            {"file": "b.png", "ok": False, "error": "URLError: [Errno 111] Connection refused"},
        ]
    }
    why = golden_failure(payload)
    assert why is not None
    assert "mismatch" not in why
    assert why.startswith("2 of 2 golden image(s) could not be hashed, first: a.png: URLError")


def test_smoke_on_a_stopped_component_does_not_advise_a_rollback_for_golden(
    example_workspace: Path, run_cli: Cli
) -> None:
    code, out, _ = run_cli(
        "--root", str(example_workspace), "smoke", "--env", "production", "--post-deploy"
    )
    assert code == 1
    golden = next(line for line in out.splitlines() if " golden: " in line)
    assert "mismatch" not in golden and "hashes differently" not in golden
    assert "dhash-gha status --env production" in golden
