"""The monitor: polls metric sources on a schedule, judges the quality gates, and rolls back."""

from dhash_gha.steps.monitor.loop import (
    Monitor,
    MonitorResult,
    MonitorRollbackFailed,
    MonitorRolledBack,
    Trip,
    run_monitor,
)
from dhash_gha.steps.monitor.responses import MonitorActions

__all__ = [
    "Monitor",
    "MonitorActions",
    "MonitorResult",
    "MonitorRollbackFailed",
    "MonitorRolledBack",
    "Trip",
    "run_monitor",
]
