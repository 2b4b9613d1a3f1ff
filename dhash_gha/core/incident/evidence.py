"""Reading an incident's archived evidence: log lines, the monitoring run, notifications.

Pure functions over text and parsed JSON: the archive adapter reads the files
and hands their contents here, so every rule is tested without a workspace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dhash_gha.core.gates.sample import parse_logfmt
from dhash_gha.core.names import LOG_KINDS

# Keys that say how an action ended, in the order they are worth showing.
OUTCOME_KEYS = (
    "status",
    "outcome",
    "result",
    "ok",
    "reason",
    "error",
    "message",
    "backup",
    "release",
)
ACTION_KINDS = frozenset({"deploy", "rollback", "smoke_test", "backup", "migrate", "monitor"})


def log_name_pattern(env: str) -> re.Pattern[str]:
    """``{kind}_{env}_{ts}.log`` of a known kind, or the service log ``dhash_{env}_{day}.log``."""
    kinds = "|".join(sorted(LOG_KINDS | {"dhash"}, key=len, reverse=True))
    return re.compile(rf"^(?P<kind>{kinds})_{re.escape(env)}_\d{{8}}(?:_\d{{6}})?\.log$")


def log_kind(name: str, env: str) -> str | None:
    match = log_name_pattern(env).match(name)
    return match.group("kind") if match else None


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class LogEvent:
    at: datetime
    source: str
    event: str
    level: str
    fields: Mapping[str, str]

    def outcome(self, limit: int = 4) -> str:
        shown = [f"{k}={self.fields[k]}" for k in OUTCOME_KEYS if self.fields.get(k)]
        return ", ".join(shown[:limit])


def parse_log(text: str, source: str) -> list[LogEvent]:
    """Every logfmt line with ``ts`` and ``event``; other lines (service output) are ignored."""
    found: list[LogEvent] = []
    for line in text.splitlines():
        if "ts=" not in line or "event=" not in line:
            continue
        try:
            fields = parse_logfmt(line)
        except ValueError:
            continue
        at = parse_time(fields.get("ts"))
        if at is None or not fields.get("event"):
            continue
        found.append(LogEvent(at, source, fields["event"], fields.get("level", "INFO"), fields))
    return found


@dataclass(frozen=True)
class Poll:
    number: int
    at: datetime
    minutes: float
    statuses: Mapping[str, str]
    values: Mapping[str, float | None]


@dataclass(frozen=True)
class MonitorRun:
    run_id: str
    started: datetime
    polls: tuple[Poll, ...]
    verdict: Mapping[str, str] = field(default_factory=dict)

    def gates(self) -> list[str]:
        names: list[str] = []
        for poll in self.polls:
            names += [g for g in poll.statuses if g not in names]
        return names

    def first_failure(self) -> str | None:
        """The gate that failed first (the verdict line's failing gate wins a tie)."""
        for poll in self.polls:
            failing = [g for g, status in poll.statuses.items() if status == "fail"]
            if failing:
                return failing[0]
        failing = [k[5:] for k, v in self.verdict.items() if k.startswith("gate.") and v == "fail"]
        return failing[0] if failing else None


def _number(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def monitoring_run(events: Sequence[LogEvent], run_id: str | None = None) -> MonitorRun | None:
    """The polls of one run (the last one started, unless ``run_id`` names another)."""
    starts = [e for e in events if e.event == "monitor_start"]
    if run_id is None:
        if starts:
            run_id = starts[-1].fields.get("run")
        else:
            seen = [e for e in events if e.event == "poll"]
            run_id = seen[-1].fields.get("run") if seen else None
    if run_id is None:
        return None
    mine = [e for e in events if e.fields.get("run") == run_id]
    poll_events = [e for e in mine if e.event == "poll"]
    if not poll_events:
        return None
    start = next((e.at for e in mine if e.event == "monitor_start"), poll_events[0].at)
    polls: list[Poll] = []
    for index, event in enumerate(poll_events, start=1):
        statuses = {k[5:]: v for k, v in event.fields.items() if k.startswith("gate.")}
        values = {k[6:]: _number(v) for k, v in event.fields.items() if k.startswith("value.")}
        number = int(_number(event.fields.get("poll")) or index)
        minutes = (event.at - start).total_seconds() / 60.0
        polls.append(Poll(number, event.at, minutes, statuses, values))
    verdict = next((dict(e.fields) for e in reversed(mine) if e.event == "verdict"), {})
    return MonitorRun(run_id=run_id, started=start, polls=tuple(polls), verdict=verdict)


def gate_config(gates_config: Mapping[str, Any] | None, env: str, gate: str) -> Mapping[str, Any]:
    """The gate's object from quality-gates-config.json (empty when absent)."""
    try:
        gates: Iterable[Mapping[str, Any]] = gates_config["environments"][env]["gates"]  # type: ignore[index]
    except (KeyError, TypeError):
        return {}
    return next((g for g in gates if g.get("name") == gate), {})


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str
    what: str


def notification_entries(records: Iterable[Mapping[str, Any]]) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for record in records:
        at = parse_time(str(record.get("time", "")))
        if at is None:
            continue
        channels = ", ".join(
            f"{c.get('name')}: {c.get('status')}" for c in record.get("channels", []) or []
        )
        text = f"notification '{record.get('type')}': {record.get('message', '')}"
        entries.append(TimelineEntry(at, "notify", f"{text} ({channels or 'no channels'})"))
    return entries


def event_entries(events: Iterable[LogEvent]) -> list[TimelineEntry]:
    """Log events for the timeline; routine polls are left to the chart and the poll table."""
    entries: list[TimelineEntry] = []
    for event in events:
        if event.event == "poll":
            failing = [
                k[5:] for k, v in event.fields.items() if k.startswith("gate.") and v == "fail"
            ]
            if not failing:
                continue
            what = f"poll {event.fields.get('poll', '?')}: " + ", ".join(
                f"{g} failed (value {event.fields.get('value.' + g) or 'n/a'})" for g in failing
            )
        else:
            what = event.event
            detail = event.outcome()
            if detail:
                what += f" — {detail}"
        if event.level in ("WARNING", "ERROR", "CRITICAL"):
            what = f"**{event.level}** {what}"
        entries.append(TimelineEntry(event.at, event.source, what))
    return entries
