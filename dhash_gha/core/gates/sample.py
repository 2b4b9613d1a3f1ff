"""One poll's observations, and their encoding in a monitor log line.

A ``Sample`` is what every metric source contributes to at one poll: a flat
map of metric keys to numbers. A key missing from ``values`` means "no data"
for that metric in that poll; ``errors`` says why (source name → reason).

Metric keys:
  ``health_ok``                       1.0 healthy, 0.0 failed (a timeout is a failure)
  ``queue_items``                     low-confidence items waiting, summed over data/{env}/*.queue
  ``<counter>``                       a counter's value summed over its label sets,
                                      e.g. ``dhash_extraction_failures_total``
  ``<histogram>_bucket:<le>``         a cumulative histogram bucket, e.g.
                                      ``dhash_hash_duration_seconds_bucket:0.5``, ``…:+Inf``
  ``<histogram>_count`` / ``_sum``    the histogram's count and sum
  ``gate:<name>``                     a gate's value computed elsewhere (a PromQL query)

The monitor writes each sample as logfmt fields (``m.<key>=<value>``,
``err.<source>=<reason>``) on its poll line, and ``gates replay`` decodes
them again: this module owns both directions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

HEALTH_OK = "health_ok"
QUEUE_ITEMS = "queue_items"
METRIC_PREFIX = "m."
ERROR_PREFIX = "err."


def bucket_key(histogram: str, le: float) -> str:
    return f"{histogram}_bucket:{format_le(le)}"


def format_le(le: float) -> str:
    if math.isinf(le):
        return "+Inf"
    return repr(float(le))


def gate_key(name: str) -> str:
    return f"gate:{name}"


@dataclass(frozen=True)
class Sample:
    at: float
    values: Mapping[str, float] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> float | None:
        return self.values.get(key)

    def buckets(self, histogram: str) -> dict[float, float]:
        """The cumulative buckets of ``histogram`` in this sample: upper bound → count."""
        prefix = f"{histogram}_bucket:"
        found: dict[float, float] = {}
        for key, value in self.values.items():
            if key.startswith(prefix):
                found[float(key[len(prefix) :])] = value
        return found


def encode_sample(sample: Sample) -> dict[str, str]:
    """logfmt fields for a poll line (``at`` plus ``m.*`` and ``err.*``)."""
    fields = {"at": f"{sample.at:.3f}"}
    for key in sorted(sample.values):
        fields[METRIC_PREFIX + key] = repr(float(sample.values[key]))
    for source in sorted(sample.errors):
        fields[ERROR_PREFIX + source] = sample.errors[source]
    return fields


def decode_sample(fields: Mapping[str, str]) -> Sample:
    """The inverse of ``encode_sample``; raises ValueError on a malformed field."""
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    metric_cut, error_cut = len(METRIC_PREFIX), len(ERROR_PREFIX)
    for key, value in fields.items():
        if key.startswith(METRIC_PREFIX):
            values[key[metric_cut:]] = float(value)
        elif key.startswith(ERROR_PREFIX):
            errors[key[error_cut:]] = value
    return Sample(at=float(fields["at"]), values=values, errors=errors)


def parse_logfmt(line: str) -> dict[str, str]:
    """Parse one logfmt line as written by ``dhash_gha.adapters.reporter.logfmt_line``.

    Raises ValueError on an unterminated quote.
    """
    fields: dict[str, str] = {}
    if '"' not in line:  # no quoted values: a plain split (replay reads ~10⁵ lines)
        for part in line.split(" "):
            if part:
                key, _, value = part.partition("=")
                fields[key] = value
        return fields
    return parse_logfmt_scanning(line)


def parse_logfmt_scanning(line: str) -> dict[str, str]:
    """``parse_logfmt`` character by character (quoted values and escapes)."""
    fields: dict[str, str] = {}
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        if i >= n:
            break
        start = i
        while i < n and line[i] not in "= ":
            i += 1
        key = line[start:i]
        if i >= n or line[i] == " ":
            fields[key] = ""
            continue
        i += 1  # '='
        if i < n and line[i] == '"':
            i += 1
            out: list[str] = []
            while True:
                if i >= n:
                    raise ValueError(f"unterminated quoted value for {key!r}")
                char = line[i]
                if char == "\\" and i + 1 < n:
                    nxt = line[i + 1]
                    out.append({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt))
                    i += 2
                    continue
                if char == '"':
                    i += 1
                    break
                out.append(char)
                i += 1
            fields[key] = "".join(out)
        else:
            start = i
            while i < n and line[i] != " ":
                i += 1
            fields[key] = line[start:i]
    return fields
