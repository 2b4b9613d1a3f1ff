"""The Prometheus query-API source against a real HTTP server answering like Prometheus."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from dhash_gha.adapters.sources.factory import prometheus_url
from dhash_gha.adapters.sources.prometheus_api import (
    PrometheusQuerySource,
    QueryFailed,
    value_from_response,
)
from dhash_gha.errors import ConfigError


def vector(*values: str) -> str:
    result = [{"metric": {"i": str(n)}, "value": [1700000000.0, v]} for n, v in enumerate(values)]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


def test_one_series_value_goes_into_the_gate_key(scripted_server: Any) -> None:
    scripted_server.answer.body = vector("7.5")
    source = PrometheusQuerySource(scripted_server.url + "/", {"rate": "100 * sum(x) / sum(y)"})
    reading = source.collect()
    assert reading.values == {"gate:rate": 7.5}
    assert reading.error is None
    path = scripted_server.answer.requests[0]
    assert urlparse(path).path == "/api/v1/query"
    assert parse_qs(urlparse(path).query)["query"] == ["100 * sum(x) / sum(y)"]


def test_scalar_answers_are_accepted() -> None:
    body = json.dumps({"status": "success", "data": {"resultType": "scalar", "result": [1, "3"]}})
    assert value_from_response(body) == 3.0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (vector(), "no series"),
        (vector("1", "2"), "2 series"),
        (vector("NaN"), "NaN"),
        (vector("abc"), "not a number"),
        ("<html>proxy error</html>", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (
            json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error"}),
            "bad_data",
        ),
        (
            json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}),
            "matrix",
        ),
        (
            json.dumps({"status": "success", "data": {"resultType": "vector", "result": [{}]}}),
            "malformed",
        ),
        (json.dumps({"status": "success"}), "no 'data'"),
    ],
)
def test_unusable_answers_raise_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(QueryFailed, match=reason):
        value_from_response(body)


def test_one_bad_query_does_not_hide_the_others(scripted_server: Any) -> None:
    scripted_server.answer.body = vector("1", "2")
    reading = PrometheusQuerySource(scripted_server.url, {"a": "x", "b": "y"}).collect()
    assert reading.values == {}
    assert reading.error is not None
    assert "a: 2 series" in reading.error and "b: 2 series" in reading.error


def test_server_error_and_timeout_are_no_data(scripted_server: Any) -> None:
    scripted_server.answer.status = 503
    scripted_server.answer.body = "unavailable"
    reading = PrometheusQuerySource(scripted_server.url, {"a": "x"}).collect()
    assert reading.values == {} and reading.error is not None and "HTTP 503" in reading.error
    scripted_server.answer.status = 200
    scripted_server.answer.body = vector("1")
    scripted_server.answer.delay = 1.0
    reading = PrometheusQuerySource(scripted_server.url, {"a": "x"}, timeout=0.2).collect()
    assert reading.values == {} and reading.error is not None and "timed out" in reading.error


def test_the_url_comes_from_the_variable_the_config_names() -> None:
    config = {"metrics": {"prometheus": {"url_env": "MY_PROM"}}}
    assert prometheus_url(config, {"MY_PROM": "http://p:9090"}) == ("MY_PROM", "http://p:9090")
    with pytest.raises(ConfigError, match="MY_PROM is unset") as info:
        prometheus_url(config, {})
    assert info.value.tip and "export MY_PROM=" in info.value.tip
    with pytest.raises(ConfigError, match="not an http"):
        prometheus_url(config, {"MY_PROM": "p:9090"})


def test_credentials_in_the_server_url_never_reach_an_error(scripted_server: Any) -> None:
    from dhash_gha.adapters.sources.http_fetch import shown_url

    scripted_server.answer.status = 500
    scripted_server.answer.body = "oops"
    url = scripted_server.url.replace("http://", "http://monitor:s3cret@")
    reading = PrometheusQuerySource(url, {"a": "x"}).collect()
    assert reading.error is not None and "HTTP 500" in reading.error
    assert "s3cret" not in reading.error and "monitor:" not in reading.error
    assert shown_url("https://u:p@prom:9090/api?q=1") == "https://prom:9090/api?q=1"
    assert shown_url("http://prom:9090") == "http://prom:9090"
