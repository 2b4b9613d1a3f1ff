"""A Prometheus server's HTTP query API: one PromQL expression per gate (for fleets).

Each gate with ``"source": "prometheus"`` has a ``promql`` expression that
evaluates to the gate's value (e.g. a percentage or milliseconds). The
instant query ``GET {base}/api/v1/query?query=…`` must answer one number: a
scalar, or a vector with exactly one series. Its value goes into the key
``gate:<name>``. Anything else — an error status, an empty result (no series
yet), several series, NaN — is "no data" for that gate with the reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from dhash_gha.adapters.sources.http_fetch import excerpt, fetch_text
from dhash_gha.adapters.sources.interface import SourceReading
from dhash_gha.core.gates.sample import gate_key


class QueryFailed(ValueError):
    """A query's answer holds no usable number."""


def value_from_response(body: str) -> float:
    """The single number in a Prometheus ``/api/v1/query`` JSON answer."""
    try:
        document: Any = json.loads(body)
    except json.JSONDecodeError:
        raise QueryFailed(f"answer is not JSON: {excerpt(body)!r}") from None
    if not isinstance(document, dict):
        raise QueryFailed(f"answer is not a JSON object: {excerpt(body)!r}")
    if document.get("status") != "success":
        raise QueryFailed(
            f"query failed: {document.get('errorType', 'error')}: {document.get('error', '?')}"
        )
    data = document.get("data")
    if not isinstance(data, dict):
        raise QueryFailed("answer has no 'data' object")
    result_type, result = data.get("resultType"), data.get("result")
    if result_type == "scalar":
        point = result
    elif result_type == "vector" and isinstance(result, list):
        if not result:
            raise QueryFailed("no series matched (is the target scraped yet?)")
        if len(result) > 1:
            raise QueryFailed(
                f"{len(result)} series returned; a gate's query must return one "
                "(aggregate it, e.g. with sum(...))"
            )
        series = result[0]
        point = series.get("value") if isinstance(series, dict) else None
    else:
        raise QueryFailed(f"unsupported result type {result_type!r}; use an instant vector")
    if not isinstance(point, list) or len(point) != 2:
        raise QueryFailed(f"malformed sample {point!r}")
    try:
        value = float(point[1])
    except (TypeError, ValueError):
        raise QueryFailed(f"value {point[1]!r} is not a number") from None
    if math.isnan(value):
        raise QueryFailed("value is NaN (no traffic in the window?)")
    return value


class PrometheusQuerySource:
    """Ask a Prometheus server for each gate's value once per poll.

    ``queries``: gate name → PromQL expression. ``base_url`` is the server's
    root (``http://prometheus:9090``), read from the environment variable the
    config names (``metrics.prometheus.url_env``).
    """

    name = "prometheus"

    def __init__(self, base_url: str, queries: Mapping[str, str], *, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.queries = dict(queries)
        self.timeout = timeout

    def query(self, promql: str) -> float:
        fetched = fetch_text(f"{self.base_url}/api/v1/query", self.timeout, {"query": promql})
        if fetched.text is None:
            raise QueryFailed(fetched.error or "no answer")
        return value_from_response(fetched.text)

    def collect(self) -> SourceReading:
        values: dict[str, float] = {}
        problems: list[str] = []
        for gate, promql in sorted(self.queries.items()):
            try:
                values[gate_key(gate)] = self.query(promql)
            except QueryFailed as exc:
                problems.append(f"{gate}: {exc}")
        return SourceReading(values, "; ".join(problems) or None)
