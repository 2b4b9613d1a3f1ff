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
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dhash_gha.adapters.reporter import Reporter, logfmt_line
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.core.gates.engine import GateVerdict
from dhash_gha.core.gates.sample import Sample, decode_sample, encode_sample, parse_logfmt

# Characters a source's error text may carry (a scrape answering binary garbage) that would
# make grep call the log a binary file or split a poll line for str.splitlines() readers.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


def printable(line: str) -> str:
    """``line`` with control and line-separator characters shown as ``\\xNN`` / ``\\uNNNN``."""
    return _UNPRINTABLE.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        line,
    )


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
        self._torn = _ends_torn(path)

    def write(self, fields: Mapping[str, Any], *, level: str = "INFO") -> None:
        line = logfmt_line({"ts": iso_utc(self.clock.now()), "level": level, **fields})
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                if self._torn:  # a monitor killed mid-line: end that line, keep ours whole
                    handle.write("\n")
                    self._torn = False
                handle.write(printable(self.reporter.redact(line)) + "\n")
        except OSError as exc:
            self.reporter.warning(f"cannot write the monitor log {self.path}: {exc}")


def _ends_torn(path: Path) -> bool:
    """Whether ``path`` ends in a partial line (no newline after its last byte)."""
    try:
        with path.open("rb") as handle:
            if handle.seek(0, 2) == 0:
                return False
            handle.seek(-1, 2)
            return handle.read(1) != b"\n"
    except OSError:
        return False


def logged_but_unsaved(path: Path, run_id: str, saved_polls: int) -> list[Sample]:
    """The samples of ``run_id``'s poll lines numbered after ``saved_polls``, in order.

    A monitor killed between writing a poll line and saving its state has logged a
    poll its state does not hold; the resumed run takes it back from the log instead
    of losing that sample and logging the same poll number a second time.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found: dict[int, Sample] = {}
    for line in text.splitlines():
        if " event=poll " not in line or f" run={run_id} " not in line:
            continue
        try:
            fields = parse_logfmt(line)
            poll = int(fields["poll"])
            sample = decode_sample(fields)
        except (KeyError, ValueError):
            continue  # a line torn by the kill
        if poll > saved_polls:
            found.setdefault(poll, sample)
    recovered: list[Sample] = []
    for poll in range(saved_polls + 1, saved_polls + 1 + len(found)):
        if poll not in found:
            break
        recovered.append(found[poll])
    return recovered
