"""Building an environment's channels from config/{env}/dhash.json and the environment.

Secrets are read here, from the variables the config names, and handed to
``reporter.mask`` at once. A channel whose variable is unset is skipped with a
reason naming the variable; it does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dhash_gha.adapters.channels.delivery import RetryPolicy, Runtime
from dhash_gha.adapters.channels.github_issue import (
    DEFAULT_API_URL,
    GitHubIssueChannel,
    UpsertIssue,
)
from dhash_gha.adapters.channels.slack import SlackChannel
from dhash_gha.adapters.channels.webhook import WebhookChannel
from dhash_gha.adapters.config import secret_from_env
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.core.notify.interface import Channel, ChannelResult


def _skip(spec: Mapping[str, Any], reason: str) -> ChannelResult:
    return ChannelResult(
        name=str(spec.get("name", "?")),
        type=str(spec.get("type", "?")),
        status="skipped",
        reason=reason,
    )


def _policy(spec: Mapping[str, Any], base: RetryPolicy) -> RetryPolicy:
    timeout = float(spec.get("timeout_seconds", base.read_timeout))
    return RetryPolicy(
        max_attempts=int(spec.get("max_attempts", base.max_attempts)),
        base_delay=base.base_delay,
        max_delay=base.max_delay,
        retry_after_cap=base.retry_after_cap,
        connect_timeout=min(base.connect_timeout, timeout),
        read_timeout=timeout,
        deadline_seconds=base.deadline_seconds,
    )


def _secret(environ: Mapping[str, str], variable: str | None, reporter: Reporter) -> str | None:
    value = secret_from_env(environ, variable)
    if value:
        reporter.mask(value)
    return value


def build_channel(
    spec: Mapping[str, Any],
    notifications: Mapping[str, Any],
    *,
    environ: Mapping[str, str],
    reporter: Reporter,
    runtime: Runtime,
    policy: RetryPolicy,
    upsert_loader: Callable[[], UpsertIssue] | None = None,
) -> Channel | ChannelResult:
    """A ready channel, or a ``skipped`` result saying which variable to set."""
    name, kind = str(spec["name"]), str(spec["type"])
    roles: Mapping[str, str] = notifications.get("roles") or {}
    own_mentions: Mapping[str, str] = spec.get("mentions") or {}
    if kind in ("slack", "webhook"):
        variable = str(spec["url_env"])
        url = _secret(environ, variable, reporter)
        secret_var = spec.get("secret_env")
        secret = _secret(environ, secret_var, reporter) if secret_var else None
        if not url:
            return _skip(spec, f"environment variable {variable} is not set (it holds the URL)")
        if kind == "slack":
            return SlackChannel(
                name=name,
                url=url,
                variable=variable,
                runtime=runtime,
                policy=_policy(spec, policy),
                role_handles=roles,
                channel_mentions=own_mentions,
            )
        if secret_var and not secret:
            reporter.warning(
                f"channel {name}: {secret_var} is not set; the webhook is sent unsigned"
            )
        return WebhookChannel(
            name=name,
            url=url,
            variable=variable,
            runtime=runtime,
            secret=secret,
            policy=_policy(spec, policy),
            role_handles=roles,
            channel_mentions=own_mentions,
        )
    if kind == "github_issue":
        token_var = str(spec["token_env"])
        token = _secret(environ, token_var, reporter)
        repo_var = spec.get("repo_env")
        repo = spec.get("repo") or (environ.get(repo_var) if repo_var else None)
        api_var = spec.get("api_url_env")
        api_url = (environ.get(api_var) if api_var else None) or environ.get(
            "GITHUB_API_URL", DEFAULT_API_URL
        )
        if not token:
            return _skip(spec, f"environment variable {token_var} is not set (it holds the token)")
        if not repo:
            where = f"environment variable {repo_var} is not set" if repo_var else "no repo"
            return _skip(spec, f"{where} (it names the repository owner/name)")
        extra: dict[str, Any] = {"loader": upsert_loader} if upsert_loader else {}
        return GitHubIssueChannel(
            name=name,
            repo=str(repo),
            token=token,
            api_url=str(api_url),
            role_handles=roles,
            channel_mentions=own_mentions,
            **extra,
        )
    return _skip(spec, f"unknown channel type {kind!r}")
