"""GitHub issue channel: open (or update) the environment's rollback incident issue.

The API client lives in ``dhash_gha.adapters.github.incidents``; it is imported only
when a notification is actually sent, and any failure of it (missing module,
HTTP error, bad answer) becomes a ``failed`` result, never an exception.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from dhash_gha.adapters.channels.delivery import sanitise
from dhash_gha.core.notify.interface import INCIDENT_KINDS, ChannelResult, Notification
from dhash_gha.core.notify.paging import mentions
from dhash_gha.core.notify.render import issue_text
from dhash_gha.errors import DhashError

DEFAULT_API_URL = "https://api.github.com"


class UpsertIssue(Protocol):
    def __call__(
        self,
        repo: str,
        *,
        token: str,
        api_url: str,
        env: str,
        release: str | None,
        title: str,
        body: str,
    ) -> str:
        """Create or update the incident issue; return its URL."""


def load_upsert() -> UpsertIssue:
    """The GitHub client's ``upsert_incident_issue`` (ImportError when it is not installed)."""
    module = importlib.import_module("dhash_gha.adapters.github.incidents")
    upsert = getattr(module, "upsert_incident_issue", None)
    if upsert is None:
        raise ImportError("dhash_gha.adapters.github.incidents has no upsert_incident_issue")
    return cast(UpsertIssue, upsert)


@dataclass
class GitHubIssueChannel:
    name: str
    repo: str
    token: str = field(repr=False)
    api_url: str
    role_handles: Mapping[str, str] = field(default_factory=dict)
    channel_mentions: Mapping[str, str] = field(default_factory=dict)
    loader: Callable[[], UpsertIssue] = field(default=load_upsert, repr=False)
    type: str = "github_issue"

    def render(self, note: Notification) -> Mapping[str, Any]:
        title, body = issue_text(
            note, mentions(note.paged_roles, self.role_handles, self.channel_mentions)
        )
        return {"repo": self.repo, "title": title, "body": body}

    def _result(self, status: Any, reason: str, **extra: Any) -> ChannelResult:
        return ChannelResult(name=self.name, type=self.type, status=status, reason=reason, **extra)

    def send(self, note: Notification) -> ChannelResult:
        if note.kind not in INCIDENT_KINDS:
            return self._result(
                "skipped",
                f"'{note.kind}' notifications do not open incident issues "
                f"(only {', '.join(sorted(INCIDENT_KINDS))})",
            )
        rendered = self.render(note)
        try:
            upsert = self.loader()
        except ImportError as exc:
            return self._result(
                "failed",
                f"the GitHub issue client is not available ({type(exc).__name__})",
                attempts=0,
                fix="install a dhash-gha version that includes dhash_gha.adapters.github.incidents",
            )
        try:
            url = upsert(
                self.repo,
                token=self.token,
                api_url=self.api_url,
                env=note.env,
                release=note.release,
                title=str(rendered["title"]),
                body=str(rendered["body"]),
            )
        except Exception as exc:  # one channel's failure never reaches the caller
            detail = exc.message if isinstance(exc, DhashError) else str(exc)
            tip = exc.tip if isinstance(exc, DhashError) else None
            return self._result(
                "failed",
                sanitise(f"{type(exc).__name__}: {detail}", [self.token]),
                attempts=1,
                fix=sanitise(tip, [self.token]) if tip else None,
            )
        return self._result("delivered", "incident issue updated", attempts=1, link=str(url))
