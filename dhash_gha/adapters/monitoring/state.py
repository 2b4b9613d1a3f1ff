"""The monitor's saved state: what a monitor started again needs to resume the same run.

Saved atomically (temporary file, fsync, rename) after every poll to
``.dhash-state/{env}/monitor_state.json``, outside the backed-up tree so a
rollback never rewinds it. It holds the run id, when the run started (the
schedule is measured from there), a fingerprint of the gates section, the
log file, every sample so far (the windows are rebuilt from them), and which
gates are already failing (so a resumed monitor does not notify twice).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dhash_gha.adapters.atomic import write_json_atomic
from dhash_gha.core.gates.sample import Sample

STATE_VERSION = 1
RUNNING = "running"


def sample_to_dict(sample: Sample) -> dict[str, Any]:
    return {"at": sample.at, "values": dict(sample.values), "errors": dict(sample.errors)}


def sample_from_dict(data: Mapping[str, Any]) -> Sample:
    return Sample(
        at=float(data["at"]),
        values={str(k): float(v) for k, v in dict(data.get("values", {})).items()},
        errors={str(k): str(v) for k, v in dict(data.get("errors", {})).items()},
    )


@dataclass
class MonitorState:
    run_id: str
    env: str
    started_at: datetime
    gates_sha256: str
    duration_seconds: float
    log_file: str
    release_id: str | None = None
    samples: list[Sample] = field(default_factory=list)
    baseline: Sample | None = None
    failing: list[str] = field(default_factory=list)
    trips: list[dict[str, Any]] = field(default_factory=list)
    status: str = RUNNING

    @property
    def polls(self) -> int:
        return len(self.samples)

    @property
    def last_poll_at(self) -> float | None:
        return self.samples[-1].at if self.samples else None

    def elapsed(self, now: datetime) -> float:
        """Seconds since the run started, on the clock that measures the schedule."""
        return (now - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "run_id": self.run_id,
            "env": self.env,
            "started_at": self.started_at.isoformat(),
            "gates_sha256": self.gates_sha256,
            "duration_seconds": self.duration_seconds,
            "log_file": self.log_file,
            "release_id": self.release_id,
            "status": self.status,
            "failing": list(self.failing),
            "trips": list(self.trips),
            "baseline": sample_to_dict(self.baseline) if self.baseline else None,
            "samples": [sample_to_dict(sample) for sample in self.samples],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorState:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported state version {data.get('version')!r}")
        baseline = data.get("baseline")
        started = datetime.fromisoformat(str(data["started_at"]))
        if started.tzinfo is None:
            raise ValueError("started_at has no time zone")
        return cls(
            run_id=str(data["run_id"]),
            env=str(data["env"]),
            started_at=started,
            gates_sha256=str(data["gates_sha256"]),
            duration_seconds=float(data["duration_seconds"]),
            log_file=str(data["log_file"]),
            release_id=None if data.get("release_id") is None else str(data["release_id"]),
            samples=[sample_from_dict(item) for item in data.get("samples", [])],
            baseline=sample_from_dict(baseline) if baseline else None,
            failing=[str(name) for name in data.get("failing", [])],
            trips=[dict(trip) for trip in data.get("trips", [])],
            status=str(data.get("status", RUNNING)),
        )


def save_state(path: Path, state: MonitorState) -> None:
    """Write atomically: a monitor killed mid-write leaves the previous state, never half."""
    write_json_atomic(path, state.to_dict(), indent=None, separators=(",", ":"))


def load_state(path: Path) -> MonitorState:
    """The saved state; raises FileNotFoundError, or ValueError when it is unreadable."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    try:
        return MonitorState.from_dict(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"missing or malformed field: {exc}") from None
