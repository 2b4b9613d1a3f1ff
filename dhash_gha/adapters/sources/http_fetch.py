"""One GET with a timeout, for the HTTP sources: the body, or the reason there is none."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

# Longest excerpt of a bad answer quoted in an error (errors go into one log line).
EXCERPT_CHARS = 80


@dataclass(frozen=True)
class Fetched:
    text: str | None
    error: str | None


def excerpt(text: str) -> str:
    """A short one-line excerpt of ``text`` for an error message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def shown_url(url: str) -> str:
    """``url`` without user and password, for messages (a Prometheus URL may carry them)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def fetch_text(url: str, timeout: float, params: Mapping[str, str] | None = None) -> Fetched:
    """GET ``url``; any network failure or non-200 answer is an error, never an exception."""
    import httpx

    # httpx's timeout bounds each network operation, not the whole request: a server
    # trickling its body a byte at a time would hold the poll far past the timeout.
    deadline = time.monotonic() + timeout
    try:
        with httpx.stream("GET", url, params=dict(params or {}), timeout=timeout) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if time.monotonic() > deadline:
                    return Fetched(None, f"timed out after {timeout:g}s (answer still arriving)")
            text = body.decode(response.encoding or "utf-8", errors="replace")
    except httpx.TimeoutException:
        return Fetched(None, f"timed out after {timeout:g}s")
    except httpx.InvalidURL:  # not an HTTPError; its message may quote the URL's parts
        return Fetched(None, "not a valid URL (bad host or port): fix it in the configuration")
    except httpx.HTTPError as exc:
        reason = str(exc).replace(url, shown_url(url))
        return Fetched(None, f"unreachable: {type(exc).__name__}: {reason}")
    if response.status_code != 200:
        return Fetched(
            None,
            f"HTTP {response.status_code} from {shown_url(url)}: {excerpt(text) or 'no body'}",
        )
    return Fetched(text, None)
