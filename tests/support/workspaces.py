"""Private copies of the example workspace for tests (free ports, so tests never collide)."""

from __future__ import annotations

from pathlib import Path


def free_port() -> int:
    from dhash_gha.adapters.scratch import free_port as pick

    return pick()


def copy_example_workspace(target: Path) -> Path:
    """A private copy of examples/dhash-app with free ports, so tests never collide."""
    from dhash_gha.adapters.scratch import copy_example

    return copy_example(target).root
