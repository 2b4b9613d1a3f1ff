"""A minimal stdlib HTTP client for the golden check and the load generator.

Stdlib only, so both can be imported by tooling that lacks httpx.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int | None  # None: no HTTP answer at all
    body: dict[str, Any] | None
    error: str = ""


def post_bytes(
    url: str, data: bytes, *, timeout: float, content_type: str = "application/octet-stream"
) -> Reply:
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, _json(response.read()))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, _json(exc.read()), f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        return Reply(None, None, f"{type(exc).__name__}: {reason}")


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None
