"""Rendering a notification: Slack Block Kit, the generic JSON body, an issue's text.

Pure functions: no I/O, no secrets (a notification never holds one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dhash_gha.core.clock import iso_utc
from dhash_gha.core.notify.interface import Notification

TITLES = {
    "test": "Test notification",
    "deploy": "Deployment",
    "rollback": "Rollback",
    "gate": "Quality gate failed",
    "critical": "CRITICAL",
    "golden": "Golden validation failed",
}
EMOJI = {
    "test": ":white_check_mark:",
    "deploy": ":rocket:",
    "rollback": ":rewind:",
    "gate": ":warning:",
    "critical": ":rotating_light:",
    "golden": ":frame_with_picture:",
}
SLACK_HEADER_LIMIT = 150
SLACK_TEXT_LIMIT = 2900


def title(note: Notification) -> str:
    return f"{TITLES.get(note.kind, note.kind)} — {note.env}"


def gate_summary(note: Notification) -> str | None:
    """``p95_hash_time: 2450 ms > threshold 2000 ms`` (or None when no gate is named)."""
    gate = note.detail("gate")
    if gate is None:
        return None
    value, threshold, unit = note.detail("value"), note.detail("threshold"), note.detail("unit")
    suffix = f" {unit}" if unit else ""
    if value is None and threshold is None:
        return gate
    return (
        f"{gate}: {value if value is not None else 'n/a'}{suffix} vs threshold {threshold}{suffix}"
    )


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def links(note: Notification) -> list[tuple[str, str]]:
    found = []
    if note.run_url:
        found.append(("Workflow run", note.run_url))
    if note.incident_url:
        found.append(("Incident", note.incident_url))
    return found


def slack_payload(note: Notification, mention_list: Sequence[str]) -> dict[str, Any]:
    """A Block Kit message: header, the message, fields, links, who is paged."""
    fields = [
        ("What happened", TITLES.get(note.kind, note.kind)),
        ("Environment", note.env),
        ("Release", note.release or "unknown"),
        ("Gate (value vs threshold)", gate_summary(note) or "—"),
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _clip(
                    f"{EMOJI.get(note.kind, '')} {title(note)}".strip(), SLACK_HEADER_LIMIT
                ),
                "emoji": True,
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _clip(_slack_escape(note.message), SLACK_TEXT_LIMIT),
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{label}*\n{_slack_escape(_clip(value, 1900))}"}
                for label, value in fields
            ],
        },
    ]
    reason = note.detail("reason")
    if reason:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _clip(f"*Reason*\n{_slack_escape(reason)}", SLACK_TEXT_LIMIT),
                },
            }
        )
    link_list = links(note)
    if link_list:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": " · ".join(f"<{url}|{label}>" for label, url in link_list),
                },
            }
        )
    context = [f"{iso_utc(note.at)}"]
    if mention_list:
        # Mentions are config-provided Slack syntax (<!subteam^ID>, <@U…>): not escaped.
        context.insert(0, "Paging: " + " ".join(mention_list))
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " | ".join(context)}]}
    )
    fallback = f"{title(note)}: {note.message}"
    if mention_list:
        fallback = " ".join(mention_list) + " " + fallback
    return {"text": _clip(fallback, SLACK_TEXT_LIMIT), "blocks": blocks}


def webhook_payload(note: Notification, mention_list: Sequence[str]) -> dict[str, Any]:
    """The generic JSON body: stable keys a receiver can rely on."""
    return {
        "type": note.kind,
        "environment": note.env,
        "title": title(note),
        "message": note.message,
        "time": iso_utc(note.at),
        "release": note.release,
        "gate": note.detail("gate"),
        "value": note.details.get("value"),
        "threshold": note.details.get("threshold"),
        "unit": note.detail("unit"),
        "run_url": note.run_url,
        "incident_url": note.incident_url,
        "paged_roles": list(note.paged_roles),
        "mentions": list(mention_list),
        "details": dict(note.details),
    }


def issue_text(note: Notification, mention_list: Sequence[str]) -> tuple[str, str]:
    """Title and Markdown body of an incident issue comment."""
    heading = (
        f"[{note.env}] {TITLES.get(note.kind, note.kind)}: release {note.release or 'unknown'}"
    )
    rows = [
        ("Environment", note.env),
        ("Release", note.release or "unknown"),
        ("Gate (value vs threshold)", gate_summary(note) or "—"),
        ("Time", iso_utc(note.at)),
    ]
    if note.detail("backup"):
        rows.append(("Backup", str(note.detail("backup"))))
    lines = [f"### {title(note)}", "", note.message, "", "| | |", "|---|---|"]
    lines += [f"| {label} | {_cell(value)} |" for label, value in rows]
    link_list = links(note)
    if link_list:
        lines += ["", " · ".join(f"[{label}]({url})" for label, url in link_list)]
    if mention_list:
        lines += ["", "Paging: " + " ".join(mention_list)]
    return heading, "\n".join(lines) + "\n"
