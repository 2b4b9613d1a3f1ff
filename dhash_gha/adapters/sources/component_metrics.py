"""The component's own Prometheus ``/metrics`` endpoint, scraped and parsed.

Parsing uses prometheus-client's text parser. Values are flattened into the
metric keys of ``dhash_gha.core.gates.sample``: a counter or gauge is summed over
its label sets; a histogram becomes one key per cumulative bucket (summed over
the other labels, grouped by ``le``) plus ``_count`` and ``_sum``. ``*_created``
timestamps and info metrics carry no gate data and are dropped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from dhash_gha.adapters.sources.http_fetch import excerpt, fetch_text
from dhash_gha.adapters.sources.interface import SourceReading
from dhash_gha.core.gates.sample import bucket_key

_SUMMED_TYPES = {"counter", "gauge", "untyped", "unknown"}


def flatten_families(families: Iterable[Any]) -> dict[str, float]:
    """Parsed metric families → flat metric keys (see module docstring)."""
    values: dict[str, float] = defaultdict(float)
    for family in families:
        if family.type in _SUMMED_TYPES:
            for sample in family.samples:
                if sample.name.endswith("_created") or math.isnan(sample.value):
                    continue
                values[sample.name] += sample.value
        elif family.type == "histogram":
            for sample in family.samples:
                if math.isnan(sample.value):
                    continue
                if sample.name == f"{family.name}_bucket":
                    le = _upper_bound(sample.labels)
                    values[bucket_key(family.name, le)] += sample.value
                elif sample.name in (f"{family.name}_count", f"{family.name}_sum"):
                    values[sample.name] += sample.value
    return dict(values)


def _upper_bound(labels: dict[str, str]) -> float:
    try:
        return float(labels["le"])  # "+Inf" parses as inf
    except (KeyError, ValueError):
        raise ValueError(f"histogram bucket without a numeric 'le' label: {labels}") from None


def parse_families(text: str) -> list[Any]:
    """Parse Prometheus text exposition; raises ValueError on malformed input."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        return list(text_string_to_metric_families(text))
    except (KeyError, IndexError, TypeError) as exc:  # the parser's other ways of saying "bad"
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc


def family_names(family: Any) -> set[str]:
    """Names a gate may use for ``family``: its own and its samples' (``x_total`` for a counter)."""
    return {family.name, *(sample.name for sample in family.samples)}


class ComponentMetricsSource:
    """Scrape ``url`` (the component's /metrics) once per poll.

    ``metrics``: the metric names the gates need (counter sample names like
    ``dhash_extraction_failures_total``, histogram names like
    ``dhash_hash_duration_seconds``). Only those are kept, so poll lines stay
    short; a response holding none of them is garbage (no data), and the
    missing ones are named in the error. ``None`` keeps everything.
    """

    name = "metrics"

    def __init__(
        self, url: str, *, timeout: float = 2.0, metrics: Collection[str] | None = None
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.metrics = frozenset(metrics) if metrics is not None else None

    def collect(self) -> SourceReading:
        fetched = fetch_text(self.url, self.timeout)
        if fetched.text is None:
            return SourceReading.failed(fetched.error or "no answer")
        try:
            families = parse_families(fetched.text)
            if self.metrics is None:
                values = flatten_families(families)
                return SourceReading(values, None if values else f"no metrics at {self.url}")
            wanted = [family for family in families if family_names(family) & self.metrics]
            values = flatten_families(wanted)
        except ValueError as exc:
            return SourceReading.failed(
                f"not Prometheus text from {self.url}: {exc} (body: {excerpt(fetched.text)!r})"
            )
        present: set[str] = set()
        for family in wanted:
            present |= family_names(family) & self.metrics
        missing = sorted(self.metrics - present)
        if not values:
            return SourceReading.failed(
                f"none of the expected metrics at {self.url} (wanted {', '.join(missing)})"
            )
        error = f"missing metrics at {self.url}: {', '.join(missing)}" if missing else None
        return SourceReading(values, error)
