"""The monitor log, ``logs/monitor_{env}_{ts}.log``: one greppable logfmt line per poll.

Line shapes (``gates replay`` decodes them):

* ``event=monitor_start run=<id> env=<env> gates_sha256=<sha> …`` opens a run;
  ``event=monitor_resume run=<id> poll=<n>`` marks a restart of the same run;
  ``event=baseline run=<id> at=… m.<key>=…`` is the pre-deploy sample, when there is one.
* ``event=poll run=<id> poll=<n> at=<s> m.<key>=<v> … err.<source>=<reason> …
  hash_time_p95_ms=<v> gate.<name>=<status> value.<name>=<v> …``: every metric
  of the sample and every gate's verdict. A value without data is written empty.
* ``event=verdict run=<id> status=<…> polls=<n> gate.<name>=… value.<name>=…``
  closes the run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dhash_gha.clock import Clock, iso_utc
from dhash_gha.gates.engine import GateVerdict
from dhash_gha.gates.sample import Sample, encode_sample
from dhash_gha.reporter import Reporter, logfmt_line


def format_value(value: float | None) -> str:
    """A gate value for a log line: plain digits, empty when there is no data."""
    if value is None or math.isnan(value):
        return ""
    return f"{value:.3f}".rstrip("0").rstrip(".") if math.isfinite(value) else repr(value)


def verdict_fields(verdicts: Sequence[GateVerdict]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for verdict in verdicts:
        fields[f"gate.{verdict.name}"] = verdict.status
        fields[f"value.{verdict.name}"] = format_value(verdict.value)
    return fields


def poll_fields(
    run_id: str,
    poll: int,
    sample: Sample,
    verdicts: Sequence[GateVerdict],
    hash_time_p95_ms: float | None,
) -> dict[str, Any]:
    return {
        "event": "poll",
        "run": run_id,
        "poll": poll,
        **encode_sample(sample),
        "hash_time_p95_ms": format_value(hash_time_p95_ms),
        **verdict_fields(verdicts),
    }


class MonitorLog:
    """Appends lines to the monitor log; secrets the reporter knows are redacted."""

    def __init__(self, path: Path, reporter: Reporter, clock: Clock) -> None:
        self.path = path
        self.reporter = reporter
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, fields: Mapping[str, Any], *, level: str = "INFO") -> None:
        line = logfmt_line({"ts": iso_utc(self.clock.now()), "level": level, **fields})
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(self.reporter.redact(line) + "\n")
        except OSError as exc:
            self.reporter.warning(f"cannot write the monitor log {self.path}: {exc}")
