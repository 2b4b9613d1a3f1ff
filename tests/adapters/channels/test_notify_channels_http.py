"""notify() against a real HTTP receiver on 127.0.0.1: payloads, signatures, retries, failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from notify_receiver import Receiver, Reply

from dhash_gha.adapters.channels import notify, verify_signature
from dhash_gha.adapters.channels.delivery import RetryPolicy
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
SLACK_PATH = "/services/T0SECRET/B0SECRET/slackSecretToken123"
WEBHOOK_SECRET = "whsec_do-not-leak-4f9a"
TOKEN = "ghp_doNotLeakThisToken0000000000"


def set_channels(ws: Path, channels: list[dict[str, Any]], env: str = "production") -> None:
    path = ws / "config" / env / "dhash.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["notifications"]["channels"] = channels
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


class Harness:
    def __init__(self, root: Path, environ: dict[str, str]) -> None:
        self.ws = Workspace.at(root)
        self.environ = environ
        self.clock = FakeClock(START)
        self.sleeps: list[float] = []
        self.out: list[str] = []

    def reporter(self) -> Reporter:
        import io

        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        return Reporter(self.environ, stream=self.stdout, err_stream=self.stderr, clock=self.clock)

    def send(self, kind: str = "rollback", **kwargs: Any) -> Any:
        details = kwargs.pop("details", None) or {
            "release": "r2026.03.01-1",
            "gate": "p95_hash_time",
            "value": 2450,
            "threshold": 2000,
            "unit": "ms",
            "incident_url": "https://github.com/acme/dhash/issues/7",
        }
        return notify(
            self.ws,
            "production",
            kind,
            "P95 hash time above threshold; rolled back",
            environ=self.environ,
            clock=self.clock,
            reporter=self.reporter(),
            details=details,
            sleep=self.sleeps.append,
            rand=lambda: 0.5,
            **kwargs,
        )

    def record(self, result: Any) -> dict[str, Any]:
        assert result.path is not None
        data: dict[str, Any] = json.loads(result.path.read_text(encoding="utf-8"))
        return data


@pytest.fixture
def harness(example_workspace: Path, clean_environ: dict[str, str]) -> Iterator[Harness]:
    h = Harness(example_workspace, clean_environ)
    yield h
    # Nothing these tests wrote may hold a secret.
    assert_no_secret_in(example_workspace, h.environ)


def assert_no_secret_in(root: Path, environ: dict[str, str]) -> None:
    secrets = [SLACK_PATH, WEBHOOK_SECRET, TOKEN]
    secrets += [v for k, v in environ.items() if k.startswith("DHASH_") and "URL" in k]
    scanned = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            text = path.read_bytes().decode("utf-8", errors="replace")
            scanned += 1
            for secret in secrets:
                assert secret not in text, f"secret found in {path}"
    assert scanned > 0


def test_slack_block_kit_payload_with_mentions_and_links(harness: Harness) -> None:
    set_channels(
        harness.ws.root,
        [
            {
                "name": "ops-slack",
                "type": "slack",
                "url_env": "DHASH_SLACK_WEBHOOK_URL",
                "mentions": {"on_call": "<!subteam^S0ONCALL>", "ops": "<!subteam^S0OPS>"},
            }
        ],
    )
    with Receiver() as rx:
        harness.environ.update(
            DHASH_SLACK_WEBHOOK_URL=rx.base + SLACK_PATH,
            GITHUB_SERVER_URL="https://github.com",
            GITHUB_REPOSITORY="acme/dhash",
            GITHUB_RUN_ID="4242",
        )
        result = harness.send()
    assert result.delivered and [r.status for r in result.results] == ["delivered"]
    assert len(rx.requests) == 1 and rx.requests[0].path == SLACK_PATH
    payload = json.loads(rx.requests[0].body)
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header" and "production" in blocks[0]["text"]["text"]
    assert blocks[0]["text"]["type"] == "plain_text"
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in blocks[2]["fields"]}
    assert fields["*Environment*"] == "production"
    assert fields["*Release*"] == "r2026.03.01-1"
    assert fields["*Gate (value vs threshold)*"] == "p95_hash_time: 2450 ms vs threshold 2000 ms"
    text = json.dumps(blocks)
    assert "<https://github.com/acme/dhash/actions/runs/4242|Workflow run>" in text
    assert "<https://github.com/acme/dhash/issues/7|Incident>" in text
    # rollback pages on_call, ops, triage_lead: channel mentions win, the role default fills in
    assert "<!subteam^S0ONCALL> <!subteam^S0OPS> @sre-triage" in text
    assert payload["text"].startswith("<!subteam^S0ONCALL>")
    record = harness.record(result)
    assert record["type"] == "rollback" and record["environment"] == "production"
    assert record["channels"][0] == {
        "name": "ops-slack",
        "type": "slack",
        "status": "delivered",
        "reason": "HTTP 200",
        "attempts": 1,
    }
    assert record["details"]["gate"] == "p95_hash_time"


def test_webhook_signature_verifies_and_replay_is_refused(harness: Harness) -> None:
    set_channels(
        harness.ws.root,
        [
            {
                "name": "pager",
                "type": "webhook",
                "url_env": "DHASH_WEBHOOK_URL",
                "secret_env": "DHASH_WEBHOOK_SECRET",
            }
        ],
    )
    with Receiver() as rx:
        harness.environ.update(
            DHASH_WEBHOOK_URL=rx.base + "/hook/abcSecretPath", DHASH_WEBHOOK_SECRET=WEBHOOK_SECRET
        )
        result = harness.send(kind="gate")
    assert result.delivered
    received = rx.requests[0]
    header = received.headers["x-dhash-signature"]
    sent_at = START.timestamp()
    assert header.startswith(f"t={int(sent_at)},v1=")
    assert verify_signature(WEBHOOK_SECRET, header, received.body, now=sent_at + 10)
    # the same request replayed an hour later is refused, and so is a tampered body or key
    assert not verify_signature(WEBHOOK_SECRET, header, received.body, now=sent_at + 3600)
    assert not verify_signature(WEBHOOK_SECRET, header, received.body + b" ", now=sent_at)
    assert not verify_signature("other-secret", header, received.body, now=sent_at)
    body = json.loads(received.body)
    assert body["type"] == "gate" and body["threshold"] == 2000 and body["value"] == 2450
    assert body["mentions"] == ["@oncall", "@ops"]
    assert received.headers["x-dhash-event"] == "gate"


def test_500_then_200_is_delivered_on_retry_with_jittered_backoff(harness: Harness) -> None:
    set_channels(
        harness.ws.root, [{"name": "hook", "type": "webhook", "url_env": "DHASH_HOOK_URL"}]
    )
    with Receiver([Reply(500, "boom"), Reply(200, "ok")]) as rx:
        harness.environ["DHASH_HOOK_URL"] = rx.base + "/h"
        result = harness.send()
    assert result.delivered and result.results[0].attempts == 2
    assert len(rx.requests) == 2
    # full jitter with rand()=0.5 and base 1 s: 0.5 s before the second attempt
    assert harness.sleeps == [0.5]
    # retries of one notification carry the same delivery id (receivers can deduplicate)
    ids = {r.headers["x-dhash-delivery"] for r in rx.requests}
    assert len(ids) == 1


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("7", 7.0),
        (format_datetime(datetime(2026, 3, 1, 12, 0, 12, tzinfo=timezone.utc), usegmt=True), 12.0),
        ("86400", 60.0),
    ],
    ids=["seconds", "http-date", "huge-capped"],
)
def test_429_retry_after_is_honoured_and_capped(
    harness: Harness, retry_after: str, expected: float
) -> None:
    set_channels(
        harness.ws.root, [{"name": "hook", "type": "webhook", "url_env": "DHASH_HOOK_URL"}]
    )
    replies = [Reply(429, "slow down", {"Retry-After": retry_after}), Reply(200, "ok")]
    with Receiver(replies) as rx:
        harness.environ["DHASH_HOOK_URL"] = rx.base + "/h"
        result = harness.send()
    assert result.delivered
    assert harness.sleeps == [expected]


@pytest.mark.parametrize(
    ("status", "body", "hint"),
    [
        (404, "channel_not_found", "no longer exists"),
        (410, "channel_is_archived", "archived"),
        (400, "invalid_payload", "malformed"),
        (403, "action_prohibited", "admin"),
    ],
)
def test_slack_configuration_errors_are_not_retried(
    harness: Harness, status: int, body: str, hint: str
) -> None:
    set_channels(
        harness.ws.root,
        [{"name": "ops-slack", "type": "slack", "url_env": "DHASH_SLACK_WEBHOOK_URL"}],
    )
    with Receiver([Reply(status, body)]) as rx:
        harness.environ["DHASH_SLACK_WEBHOOK_URL"] = rx.base + SLACK_PATH
        result = harness.send()
    assert not result.delivered
    assert len(rx.requests) == 1 and harness.sleeps == []
    channel = result.results[0]
    assert channel.status == "failed" and channel.configuration_error
    assert body in (channel.reason or "") and hint in (channel.fix or "")
    assert "DHASH_SLACK_WEBHOOK_URL" in (channel.fix or "")
    record = harness.record(result)["channels"][0]
    assert record["configuration_error"] is True and record["fix"] == channel.fix
    assert f"tip: ops-slack: {channel.fix}" in harness.stderr.getvalue()


def test_timeout_is_failed_and_never_raises_to_the_caller(harness: Harness) -> None:
    set_channels(
        harness.ws.root, [{"name": "hook", "type": "webhook", "url_env": "DHASH_HOOK_URL"}]
    )
    policy = RetryPolicy(max_attempts=2, connect_timeout=0.5, read_timeout=0.2)
    with Receiver([Reply(200, "late", delay=1.0)]) as rx:
        harness.environ["DHASH_HOOK_URL"] = rx.base + "/slow/abcSecretPath"

        def rollback_then_notify() -> str:
            outcome = "rolled back"
            harness.send(policy=policy)
            return outcome

        assert rollback_then_notify() == "rolled back"
    record = json.loads(sorted(harness.ws.notifications_dir.glob("*.json"))[-1].read_text())
    channel = record["channels"][0]
    assert channel["status"] == "failed" and channel["attempts"] == 2
    assert channel["reason"].startswith("timeout: ReadTimeout")
    assert record["delivered"] is False
    assert "abcSecretPath" not in json.dumps(record)


def test_connection_refused_reason_holds_no_url(harness: Harness) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    set_channels(
        harness.ws.root, [{"name": "hook", "type": "webhook", "url_env": "DHASH_HOOK_URL"}]
    )
    harness.environ["DHASH_HOOK_URL"] = f"http://127.0.0.1:{free_port}/hook/abcSecretPath"
    result = harness.send(policy=RetryPolicy(max_attempts=3))
    channel = result.results[0]
    assert channel.status == "failed" and channel.attempts == 3
    assert channel.reason and channel.reason.startswith("connection error")
    assert "127.0.0.1" not in channel.reason and "abcSecretPath" not in channel.reason
    assert len(harness.sleeps) == 2 and all(0 <= s <= 2 for s in harness.sleeps)


def test_channels_are_independent_and_unset_variables_are_skipped(harness: Harness) -> None:
    set_channels(
        harness.ws.root,
        [
            {"name": "broken", "type": "webhook", "url_env": "DHASH_BROKEN_URL"},
            {"name": "unset", "type": "slack", "url_env": "DHASH_UNSET_URL"},
            {"name": "good", "type": "webhook", "url_env": "DHASH_GOOD_URL"},
        ],
    )
    with Receiver([Reply(404, "nope")]) as bad, Receiver([Reply(200, "ok")]) as good:
        harness.environ["DHASH_BROKEN_URL"] = bad.base + "/x"
        harness.environ["DHASH_GOOD_URL"] = good.base + "/y"
        result = harness.send()
    statuses = {r.name: r.status for r in result.results}
    assert statuses == {"broken": "failed", "unset": "skipped", "good": "delivered"}
    skipped = next(r for r in result.results if r.name == "unset")
    assert "DHASH_UNSET_URL" in (skipped.reason or "")
    assert not result.delivered


def test_dry_run_renders_and_records_but_sends_nothing(harness: Harness) -> None:
    set_channels(
        harness.ws.root,
        [{"name": "ops-slack", "type": "slack", "url_env": "DHASH_SLACK_WEBHOOK_URL"}],
    )
    with Receiver() as rx:
        harness.environ["DHASH_SLACK_WEBHOOK_URL"] = rx.base + SLACK_PATH
        result = harness.send(dry_run=True)
    assert rx.requests == []
    assert result.delivered and result.results[0].status == "dry-run"
    record = harness.record(result)
    assert record["dry_run"] is True
    assert record["rendered"]["ops-slack"]["blocks"][0]["type"] == "header"


def test_github_issue_channel_calls_the_client(harness: Harness) -> None:
    set_channels(
        harness.ws.root,
        [
            {
                "name": "issue",
                "type": "github_issue",
                "repo_env": "GITHUB_REPOSITORY",
                "token_env": "GITHUB_TOKEN",
            }
        ],
    )
    harness.environ.update(GITHUB_REPOSITORY="acme/dhash", GITHUB_TOKEN=TOKEN)
    calls: list[dict[str, Any]] = []

    def upsert(repo: str, **kwargs: Any) -> str:
        calls.append({"repo": repo, **kwargs})
        return "https://github.com/acme/dhash/issues/12"

    result = harness.send(upsert_loader=lambda: upsert)
    assert result.delivered and result.results[0].link == "https://github.com/acme/dhash/issues/12"
    call = calls[0]
    assert call["repo"] == "acme/dhash" and call["token"] == TOKEN
    assert call["env"] == "production" and call["release"] == "r2026.03.01-1"
    assert call["api_url"] == "https://api.github.com"
    assert "p95_hash_time: 2450 ms vs threshold 2000 ms" in call["body"]
    # a test notification does not open an incident issue
    assert harness.send(kind="test", upsert_loader=lambda: upsert).results[0].status == "skipped"
    assert len(calls) == 1


def test_github_issue_client_failure_or_absence_is_a_failed_channel(harness: Harness) -> None:
    set_channels(
        harness.ws.root,
        [
            {
                "name": "issue",
                "type": "github_issue",
                "repo": "acme/dhash",
                "token_env": "GITHUB_TOKEN",
            }
        ],
    )
    harness.environ["GITHUB_TOKEN"] = TOKEN

    def failing(repo: str, **kwargs: Any) -> str:
        raise RuntimeError(
            f"401 Bad credentials for token {kwargs['token']} at https://api.github.com/x"
        )

    def missing() -> Any:
        raise ImportError("No module named 'dhash_gha.adapters.github.incidents'")

    failed = harness.send(upsert_loader=lambda: failing).results[0]
    assert failed.status == "failed" and "Bad credentials" in (failed.reason or "")
    assert TOKEN not in (failed.reason or "") and "https://" not in (failed.reason or "")
    absent = harness.send(upsert_loader=missing).results[0]
    assert absent.status == "failed" and "not available" in (absent.reason or "")


@pytest.mark.parametrize(
    "bad_url", ["hooks.example.com/services/T/B/abcSecretPath", "http://[::1/abcSecretPath"]
)
def test_unusable_url_is_a_configuration_error_without_retries(
    harness: Harness, bad_url: str
) -> None:
    set_channels(
        harness.ws.root, [{"name": "hook", "type": "webhook", "url_env": "DHASH_HOOK_URL"}]
    )
    harness.environ["DHASH_HOOK_URL"] = bad_url
    channel = harness.send().results[0]
    assert channel.status == "failed" and channel.attempts == 1 and harness.sleeps == []
    assert channel.configuration_error and "DHASH_HOOK_URL" in (channel.fix or "")
    assert "abcSecretPath" not in (channel.reason or "")


def test_details_with_paths_and_nan_are_sent_as_plain_json(harness: Harness) -> None:
    set_channels(
        harness.ws.root, [{"name": "hook", "type": "webhook", "url_env": "DHASH_HOOK_URL"}]
    )
    details = {
        "backup": harness.ws.root / "backups" / "dhash_production_20260301_115500.zip",
        "value": float("nan"),
        "threshold": 2000.0,
        "gate": "p95_hash_time",
        "api_token": "tok-should-not-travel",
    }
    with Receiver() as rx:
        harness.environ["DHASH_HOOK_URL"] = rx.base + "/h"
        result = harness.send(details=details)
    assert result.delivered
    body = json.loads(rx.requests[0].body)
    assert body["value"] is None and body["threshold"] == 2000.0
    assert body["details"]["backup"].endswith("dhash_production_20260301_115500.zip")
    assert body["details"]["api_token"] == "***"
    assert "tok-should-not-travel" not in harness.record(result).__repr__()


def test_channels_are_sent_in_parallel(harness: Harness) -> None:
    import threading

    # Each receiver answers only once both requests have arrived: sequential sending would
    # leave the first one waiting until its read timeout.
    both_arrived = threading.Barrier(2, timeout=3)
    set_channels(
        harness.ws.root,
        [
            {"name": "a", "type": "webhook", "url_env": "DHASH_A_URL", "max_attempts": 1},
            {"name": "b", "type": "webhook", "url_env": "DHASH_B_URL", "max_attempts": 1},
        ],
    )
    reply = Reply(200, "ok", before=both_arrived.wait)
    with Receiver([reply]) as a, Receiver([reply]) as b:
        harness.environ.update(DHASH_A_URL=a.base + "/a", DHASH_B_URL=b.base + "/b")
        result = harness.send(policy=RetryPolicy(read_timeout=2.0))
    assert [(r.name, r.status) for r in result.results] == [("a", "delivered"), ("b", "delivered")]


def test_slack_limits_are_respected_for_long_texts(harness: Harness) -> None:
    set_channels(
        harness.ws.root, [{"name": "s", "type": "slack", "url_env": "DHASH_SLACK_WEBHOOK_URL"}]
    )
    long = "x" * 5000
    with Receiver() as rx:
        harness.environ["DHASH_SLACK_WEBHOOK_URL"] = rx.base + SLACK_PATH
        notify(
            harness.ws,
            "production",
            "critical",
            "<b>& " + long,
            environ=harness.environ,
            clock=harness.clock,
            reporter=harness.reporter(),
            details={"release": long, "reason": long, "gate": long},
            rand=lambda: 0.0,
        )
    blocks = json.loads(rx.requests[0].body)["blocks"]
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if "text" in block and block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
    assert blocks[1]["text"]["text"].startswith("&lt;b&gt;&amp; xxx")
    assert blocks[1]["text"]["text"].endswith("…")
