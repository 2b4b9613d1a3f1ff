"""The GitHub REST client: PyGithub's requester, with our own retry and error policy.

PyGithub's own retry (``GithubRetry``) would sleep until a primary rate limit
resets — up to an hour — and retries POSTs, so it is disabled (``retry=None``)
and its request throttling is off; :mod:`dhash_gha.core.ratelimit` decides
instead. Every failure becomes one of our error classes with a tip that says
what to do. PyGithub is imported only when a client is built, so the CLI's
``--help`` never loads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.core.clock import Clock
from dhash_gha.core.ratelimit import FailureKind, RetryPolicy, classify, decide
from dhash_gha.errors import BadInput, CheckFailed

DEFAULT_API_URL = "https://api.github.com"
_REPO_RE = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})$")
_MAX_PAGES = 20


class GitHubApiError(CheckFailed):
    """GitHub answered with an error we could not get past."""

    def __init__(
        self,
        message: str,
        *,
        tip: str | None = None,
        status: int = 0,
        api_message: str = "",
        kind: FailureKind = FailureKind.OTHER,
    ) -> None:
        super().__init__(message, tip=tip)
        self.status = status
        self.api_message = api_message
        self.kind = kind


class GitHubNotFound(GitHubApiError):
    """404: the thing is absent, or the token may not see it (GitHub does not say which)."""


class GitHubForbidden(GitHubApiError):
    """403 without a rate limit: the token lacks a permission."""


class GitHubUnauthorized(BadInput):
    """401: the token is invalid or expired. Never retried."""


@dataclass(frozen=True)
class Credentials:
    token: str
    api_url: str = DEFAULT_API_URL


def credentials_from_env(environ: Mapping[str, str]) -> Credentials:
    """The token from GITHUB_TOKEN (or GH_TOKEN) and the API URL from GITHUB_API_URL."""
    token = (environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN") or "").strip()
    if not token:
        raise BadInput(
            "no GitHub token: neither GITHUB_TOKEN nor GH_TOKEN is set",
            tip="in a workflow add `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` (or a token "
            "with administration:read for protection checks); locally `export GH_TOKEN=$(gh auth "
            "token)`",
        )
    api_url = (environ.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(
            f"GITHUB_API_URL is not an http(s) URL: {api_url!r}",
            tip="use https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server",
        )
    return Credentials(token=token, api_url=api_url)


def parse_repo(text: str) -> tuple[str, str]:
    """``OWNER/NAME`` → (owner, name), or BadInput naming the expected form."""
    match = _REPO_RE.match(text.strip())
    if not match or match.group(2) in (".", ".."):
        raise BadInput(
            f"--repo must be OWNER/NAME, got {text!r}",
            tip="for example --repo acme/dhash (in a workflow: --repo ${{ github.repository }})",
        )
    return match.group(1), match.group(2)


@dataclass
class Response:
    headers: dict[str, str]
    data: Any


@dataclass
class GitHubClient:
    """Calls the REST API through PyGithub's requester, retrying only as the policy allows."""

    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    clock: Clock = field(default_factory=SystemClock)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: int = 30
    notes: list[str] = field(default_factory=list)
    on_note: Callable[[str], None] | None = None
    _requester: Any = field(default=None, repr=False)

    def _note(self, text: str) -> None:
        """Say at once why we wait: a silent five-minute pause looks like a hang."""
        self.notes.append(text)
        if self.on_note is not None:
            self.on_note(text)

    @classmethod
    def from_credentials(
        cls, creds: Credentials, *, clock: Clock | None = None, policy: RetryPolicy | None = None
    ) -> GitHubClient:
        return cls(
            token=creds.token,
            api_url=creds.api_url,
            clock=clock or SystemClock(),
            policy=policy or RetryPolicy(),
        )

    def _get_requester(self) -> Any:
        if self._requester is None:
            from github import Auth, Github

            gh = Github(
                auth=Auth.Token(self.token),
                base_url=self.api_url,
                timeout=self.timeout,
                retry=None,
                seconds_between_requests=None,
                seconds_between_writes=None,
            )
            self._requester = gh.requester
        return self._requester

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry_server_errors: bool = True,
    ) -> Response:
        """One API call; rate limits and 5xx retried per the policy, other errors raised."""
        import requests
        from github.GithubException import GithubException

        requester = self._get_requester()
        attempt = 0
        while True:
            attempt += 1
            try:
                headers, data = requester.requestJsonAndCheck(
                    method, path, parameters=dict(params) if params else None, input=body
                )
                return Response({k.lower(): str(v) for k, v in (headers or {}).items()}, data)
            except GithubException as exc:
                resp_headers = {k.lower(): str(v) for k, v in (exc.headers or {}).items()}
                api_message = _api_message(exc.data)
                kind = classify(exc.status, resp_headers, api_message)
                if kind is FailureKind.SERVER_ERROR and not retry_server_errors:
                    raise self._error(method, path, exc.status, api_message, kind, "") from exc
                decision = decide(
                    kind,
                    attempt=attempt,
                    headers=resp_headers,
                    now=self.clock.now(),
                    policy=self.policy,
                )
                if not decision.retry:
                    raise self._error(
                        method, path, exc.status, api_message, kind, decision.reason
                    ) from exc
                self._note(f"{method} {path}: {decision.reason}")
                self.clock.sleep(decision.wait)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not retry_server_errors or attempt >= self.policy.server_error_attempts:
                    raise GitHubApiError(
                        f"cannot reach the GitHub API at {self.api_url}: {type(exc).__name__}",
                        tip="check GITHUB_API_URL and the network; GitHub status: "
                        "https://www.githubstatus.com",
                        kind=FailureKind.SERVER_ERROR,
                    ) from exc
                wait = self.policy.server_error_base_delay * (2 ** (attempt - 1))
                self._note(f"{method} {path}: connection failed; retrying in {wait:g} s")
                self.clock.sleep(wait)

    def close(self) -> None:
        """Release PyGithub's pooled connections."""
        if self._requester is not None:
            self._requester.close()
            self._requester = None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).data

    def paginate(self, path: str, **params: Any) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"``."""
        params.setdefault("per_page", 100)
        url: str | None = path
        query: dict[str, Any] | None = params
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            response = self.request("GET", url, params=query)
            data = response.data
            if isinstance(data, dict):  # some lists are wrapped: {"total_count", "<items>"}
                data = next((v for v in data.values() if isinstance(v, list)), [])
            yield from data or []
            url = _next_link(response.headers.get("link", ""))
            query = None

    def _error(
        self,
        method: str,
        path: str,
        status: int,
        api_message: str,
        kind: FailureKind,
        reason: str,
    ) -> Exception:
        where = f"{method} {path}"
        said = f": {api_message}" if api_message else ""
        if kind is FailureKind.UNAUTHORIZED:
            return GitHubUnauthorized(
                f"GitHub rejected the token (401{said}): it is invalid or expired",
                tip="create a new token (or check the secret passed as GITHUB_TOKEN/GH_TOKEN); "
                "GitHub Enterprise Server needs GITHUB_API_URL=https://HOST/api/v3",
            )
        if kind in (FailureKind.PRIMARY_RATE_LIMIT, FailureKind.SECONDARY_RATE_LIMIT):
            return GitHubApiError(
                f"GitHub rate limit on {where}: {reason}",
                tip="re-run the job after the reset time, or use a GitHub App token (higher "
                "limits); see https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
                status=status,
                api_message=api_message,
                kind=kind,
            )
        if kind is FailureKind.SERVER_ERROR:
            return GitHubApiError(
                f"GitHub server error {status} on {where}{said} ({reason})",
                tip="GitHub may be degraded (https://www.githubstatus.com); re-run the job later",
                status=status,
                api_message=api_message,
                kind=kind,
            )
        if kind is FailureKind.NOT_FOUND:
            return GitHubNotFound(
                f"GitHub answered 404 on {where}{said}",
                tip="check the name; GitHub also answers 404 when the token may not see it",
                status=status,
                api_message=api_message,
                kind=kind,
            )
        if kind is FailureKind.FORBIDDEN:
            return GitHubForbidden(
                f"GitHub answered 403 on {where}{said}: the token lacks a permission",
                tip="give the token the permission this call needs (see docs/github.md)",
                status=status,
                api_message=api_message,
                kind=kind,
            )
        return GitHubApiError(
            f"GitHub answered {status} on {where}{said}",
            status=status,
            api_message=api_message,
            kind=kind,
        )


def _api_message(data: Any) -> str:
    if isinstance(data, dict):
        message = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            details = "; ".join(
                str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
                for e in errors
            )
            message = f"{message} ({details})" if message else details
        return message
    return ""


def _next_link(link_header: str) -> str | None:
    for part in link_header.split(","):
        section = part.split(";")
        if len(section) < 2:
            continue
        if any(s.strip() in ('rel="next"', "rel=next") for s in section[1:]):
            return section[0].strip().strip("<>")
    return None
