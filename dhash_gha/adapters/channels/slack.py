"""Slack incoming webhook: a Block Kit message, mentions for the paged roles."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dhash_gha.adapters.channels.delivery import RetryPolicy, Runtime, deliver
from dhash_gha.core.notify.interface import ChannelResult, Notification
from dhash_gha.core.notify.paging import mentions
from dhash_gha.core.notify.render import slack_payload


@dataclass
class SlackChannel:
    name: str
    url: str = field(repr=False)
    variable: str
    runtime: Runtime = field(repr=False)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    role_handles: Mapping[str, str] = field(default_factory=dict)
    channel_mentions: Mapping[str, str] = field(default_factory=dict)
    type: str = "slack"

    def mentions(self, note: Notification) -> list[str]:
        return mentions(note.paged_roles, self.role_handles, self.channel_mentions)

    def render(self, note: Notification) -> Mapping[str, Any]:
        return slack_payload(note, self.mentions(note))

    def send(self, note: Notification) -> ChannelResult:
        body = json.dumps(self.render(note), ensure_ascii=False).encode("utf-8")
        outcome = deliver(
            self.url,
            lambda: (body, {"Content-Type": "application/json; charset=utf-8"}),
            transport=self.runtime.transport,
            policy=self.policy,
            variable=self.variable,
            secrets=[],
            now=self.runtime.now,
            sleep=self.runtime.sleep,
            rand=self.runtime.rand,
        )
        return outcome.channel_result(self.name, self.type)
