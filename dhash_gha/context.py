"""What every command receives: the workspace root, the environment, the clock and the reporter.

Passing these in (rather than reading globals deep down) lets tests run an
hour of monitoring in seconds and check exactly what was printed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock


@dataclass
class Context:
    root: Path
    environ: Mapping[str, str]
    clock: Clock = field(default_factory=SystemClock)
    reporter: Reporter = field(default_factory=Reporter)
    interactive: bool = False

    @classmethod
    def create(
        cls, root: str | Path, environ: Mapping[str, str], clock: Clock | None = None
    ) -> Context:
        clock = clock or SystemClock()
        return cls(
            root=Path(root),
            environ=environ,
            clock=clock,
            reporter=Reporter(environ, clock=clock),
            interactive=sys.stdin.isatty() if sys.stdin else False,
        )

    def workspace(self) -> Workspace:
        """The validated workspace (raises BadInput when --root does not exist)."""
        return Workspace.at(self.root)
