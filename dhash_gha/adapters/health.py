"""Probing the component's health endpoint.

Used by deploy (wait for healthy), smoke tests, rollback (3 consecutive OK)
and the monitor's health source. A timeout or a refused connection is a
failed probe, never an exception.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HealthProbe:
    ok: bool
    status: int | None
    detail: str
    elapsed_ms: float
    body: dict[str, Any] | None = None


def probe(url: str, timeout: float = 2.0) -> HealthProbe:
    """GET the health URL once: ok only on HTTP 200."""
    import httpx

    started = time.perf_counter()
    try:
        # httpx's timeout bounds each read, not the whole answer: stop a trickling body.
        with httpx.stream("GET", url, timeout=timeout) as response:
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                if time.perf_counter() - started > timeout:
                    raise httpx.ReadTimeout("answer still arriving")
    except httpx.TimeoutException:
        return HealthProbe(False, None, f"timed out after {timeout:g}s", _ms(started))
    except httpx.HTTPError as exc:
        return HealthProbe(False, None, f"unreachable: {type(exc).__name__}: {exc}", _ms(started))
    body: dict[str, Any] | None = None
    try:
        parsed = json.loads(raw)
        body = parsed if isinstance(parsed, dict) else None
    except (json.JSONDecodeError, ValueError):
        body = None
    reason = ""
    if body is not None:
        reason = str(body.get("reason") or body.get("status") or "")
    detail = f"HTTP {response.status_code}" + (f" ({reason})" if reason else "")
    return HealthProbe(
        response.status_code == 200, response.status_code, detail, _ms(started), body
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
