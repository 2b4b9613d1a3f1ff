"""loads_strict: JSON as RFC 8259 defines it, refused with the JSON path when it is not."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhash_gha.core.strict_json import MAX_DEPTH, StrictJsonError, loads_strict
from dhash_gha.errors import EXIT_BAD_INPUT, BadInput

SOURCE = "GitHub's answer to GET https://api.example/x"


def test_plain_json_is_parsed_like_json_loads() -> None:
    text = '{"a": [1, 2.5, "x", null, true, {"b": -3e2}], "c": {}}'
    assert loads_strict(text, source=SOURCE) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "path", "word"),
    [
        ('{"value": NaN}', "$.value", "NaN"),
        ('{"a": {"b": [1, Infinity]}}', "$.a.b[1]", "Infinity"),
        ("[-Infinity]", "$[0]", "-Infinity"),
        ('{"big": 1e400}', "$.big", "1e400"),
        ('{"neg": [0, -1.5e999]}', "$.neg[1]", "-1.5e999"),
        ("NaN", "$", "NaN"),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_path(text: str, path: str, word: str) -> None:
    # Python's json accepts all of these (NaN, ±Infinity; 1e400 becomes inf).
    assert not all(math.isfinite(v) for v in _numbers(json.loads(text)))
    with pytest.raises(StrictJsonError) as caught:
        loads_strict(text, source=SOURCE)
    error = caught.value
    assert isinstance(error, BadInput) and error.exit_code == EXIT_BAD_INPUT
    assert error.path == path
    assert SOURCE in error.message and path in error.message and word in error.message


def test_an_integer_too_large_for_a_float_is_refused() -> None:
    with pytest.raises(StrictJsonError, match=r"\$\.n"):
        loads_strict('{"n": 1' + "0" * 400 + "}", source=SOURCE)


@pytest.mark.parametrize(
    ("text", "path", "key"),
    [
        ('{"a": 1, "a": 2}', "$", "a"),
        ('{"x": [{"ok": 1}, {"id": 1, "id": 1}]}', "$.x[1]", "id"),
        ('{"outer": {"in ner": {"k": 1, "k": 2}}}', '$.outer["in ner"]', "k"),
    ],
)
def test_duplicate_keys_are_refused_naming_the_key_and_path(text: str, path: str, key: str) -> None:
    with pytest.raises(StrictJsonError) as caught:
        loads_strict(text, source=SOURCE)
    assert caught.value.path == path
    assert f"duplicate key {key!r}" in caught.value.message


def test_deep_nesting_is_a_clear_error_not_a_recursion_error() -> None:
    deep = "[" * 200_000 + "]" * 200_000
    with pytest.raises(RecursionError):
        json.loads(deep)  # what the standard library does
    with pytest.raises(StrictJsonError, match=f"nested deeper than {MAX_DEPTH}"):
        loads_strict(deep, source=SOURCE)
    deep_objects = '{"a":' * 100 + "1" + "}" * 100
    with pytest.raises(StrictJsonError, match="nested deeper"):
        loads_strict(deep_objects, source=SOURCE)


def test_nesting_up_to_the_limit_is_fine_and_brackets_in_strings_do_not_count() -> None:
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads_strict(at_limit, source=SOURCE) is not None
    with pytest.raises(StrictJsonError):
        loads_strict("[" + at_limit + "]", source=SOURCE)
    text = json.dumps({"s": "[" * 1000 + '\\"{' * 500})
    assert loads_strict(text, source=SOURCE) == json.loads(text)


@pytest.mark.parametrize(
    "text", ["<html><body>502 Bad Gateway</body></html>", "", '{"a": 1', "{'a': 1}"]
)
def test_text_that_is_not_json_says_so(text: str) -> None:
    with pytest.raises(StrictJsonError, match="is not JSON") as caught:
        loads_strict(text, source=SOURCE)
    assert SOURCE in caught.value.message


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_whatever_json_dumps_writes_strictly_parses_back(value: object) -> None:
    assert loads_strict(json.dumps(value), source=SOURCE) == value


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [float(value)] if isinstance(value, (int, float)) else []
