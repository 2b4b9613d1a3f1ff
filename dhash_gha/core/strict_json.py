"""JSON as RFC 8259 defines it, for every answer an API gives us.

Python's ``json`` is lenient where a verdict must not be: it reads ``NaN``,
``Infinity`` and ``-Infinity`` as numbers, turns ``1e400`` into ``inf``, keeps
the last of two equal keys without a word, and dies with ``RecursionError``
on deeply nested input. :func:`loads_strict` refuses all of these with a
``BadInput`` naming the source, the JSON path (``$.a.b[3]``) and the problem.

The common case costs one ``json.loads`` with checking hooks plus a scan of
the brackets; only when a hook refuses something is the text parsed a second
time, with marking hooks, to find where it was. Pure: no I/O.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from dhash_gha.errors import BadInput

# Deeper than any API answer we read (GitHub's and Prometheus' stay under 10 levels).
MAX_DEPTH = 64
# The largest float is about 1.8e308: an integer with more digits cannot be compared as one.
MAX_INTEGER_DIGITS = 308

# A JSON string (escapes included) or one bracket; strings are skipped when counting depth.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TIP = (
    "the answer did not come from the API as documented (a proxy, a captive portal or an "
    "incompatible server answered?); check the URL"
)


class StrictJsonError(BadInput):
    """``text`` from ``source`` is not strict JSON; ``path`` says where (``$`` for the whole)."""

    def __init__(self, source: str, problem: str, path: str = "$") -> None:
        # "is not JSON", "is nested deeper …" describe the whole text; the others a value in it.
        where = "" if problem.startswith("is ") else f" at {path}"
        super().__init__(f"{source} {problem}{where}", tip=_TIP)
        self.source = source
        self.problem = problem
        self.path = path


class _Refused(Exception):
    """Raised by a hook during the first pass; the second pass finds the path."""


class _Mark:
    """Stands in, during the second pass, for the value a hook refused."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


class _MarkedObject(dict[str, Any]):
    """An object holding a duplicate key (second pass)."""

    problem = ""


def loads_strict(text: str, *, source: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text``; raise :class:`StrictJsonError` (a ``BadInput``) unless it is strict JSON.

    ``source`` names where the text came from, for the message (e.g. "GitHub's answer to
    GET https://api.github.com/repos/o/r").
    """
    _check_depth(text, source, max_depth)
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_checked_float,
            parse_int=_checked_int,
            object_pairs_hook=_unique_object,
        )
    except _Refused:
        pass
    except json.JSONDecodeError as exc:
        raise StrictJsonError(
            source, f"is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit for conversion
        raise StrictJsonError(source, f"is not usable JSON ({exc})") from None
    marked = json.loads(
        text,
        parse_constant=lambda word: _Mark(f"holds {word}, which is not a number JSON allows"),
        parse_float=_marked_float,
        parse_int=_marked_int,
        object_pairs_hook=_marked_object,
    )
    found = _find_mark(marked, "$")
    if found is None:  # pragma: no cover - the first pass refused something, so a mark exists
        raise StrictJsonError(source, "is not strict JSON")
    path, problem = found
    raise StrictJsonError(source, problem, path)


# --- first pass: refuse ---------------------------------------------------------------------
def _refuse_constant(word: str) -> Any:
    raise _Refused(word)


def _checked_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused(literal)
    return value


def _checked_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Refused(literal)
    return int(literal)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Refused("duplicate key")
    return result


# --- second pass: mark, then find the mark --------------------------------------------------
def _marked_float(literal: str) -> float | _Mark:
    value = float(literal)
    if math.isfinite(value):
        return value
    return _Mark(f"holds {literal}, which is beyond the range of a number")


def _marked_int(literal: str) -> int | _Mark:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        return _Mark(f"holds an integer of {len(literal.lstrip('-'))} digits (too large)")
    return int(literal)


def _marked_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = _MarkedObject()
    for key, value in pairs:
        if key in result and not result.problem:
            result.problem = f"holds the duplicate key {key!r}"
        result[key] = value
    return result


def _find_mark(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, _Mark):
        return path, value.problem
    if isinstance(value, _MarkedObject) and value.problem:
        return path, value.problem
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_mark(item, _child(path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_mark(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def _check_depth(text: str, source: str, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` before ``json`` recurses into it."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise StrictJsonError(source, f"is nested deeper than {max_depth} levels")
        elif token in "]}":
            depth -= 1
