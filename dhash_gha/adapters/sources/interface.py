"""What every metric source provides, and how one poll's readings become a ``Sample``.

A source is anything with a ``name`` and a ``collect()`` that returns a
``SourceReading``. A source that is down or answers garbage returns no values
and an ``error`` saying why: the poll goes on with "no data" for its metrics
and the gate engine decides what no data means. ``collect_sample`` is the
last guard: an unexpected exception inside a source becomes an error for
that source, never a crashed monitor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dhash_gha.core.gates.sample import Sample


@dataclass(frozen=True)
class SourceReading:
    """One source's answer at one poll.

    ``values`` may be empty (no data) or partial; ``error`` is the reason for
    what is missing, or — for a check that ran and failed, like a health probe
    answering 503 — what the failure was.
    """

    values: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def failed(cls, reason: str) -> SourceReading:
        return cls({}, reason)


class MetricSource(Protocol):
    @property
    def name(self) -> str:
        """Short name used as the key in ``Sample.errors`` (``metrics``, ``health`` …)."""

    def collect(self) -> SourceReading:
        """Read the source once; report trouble in the reading, do not raise."""


ErrorLogger = Callable[[str, str], None]


def combine_readings(at: float, readings: Mapping[str, SourceReading]) -> Sample:
    """One ``Sample`` from each source's reading (source name → reading)."""
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    for source in sorted(readings):
        reading = readings[source]
        values.update(reading.values)
        if reading.error:
            errors[source] = reading.error
    return Sample(at=at, values=values, errors=errors)


def collect_sample(
    sources: Sequence[MetricSource], *, at: float, on_error: ErrorLogger | None = None
) -> Sample:
    """Poll every source once and combine the readings; never raises for a source's fault.

    ``on_error(source, reason)`` is called for each source that reported a problem,
    so the caller can log it.
    """
    readings: dict[str, SourceReading] = {}
    for source in sources:
        try:
            reading = source.collect()
        except Exception as exc:  # a bug or an unforeseen failure in one source
            reading = SourceReading.failed(f"source raised {type(exc).__name__}: {exc}")
        readings[source.name] = reading
        if reading.error and on_error is not None:
            on_error(source.name, reading.error)
    return combine_readings(at, readings)
