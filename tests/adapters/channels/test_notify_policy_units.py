"""Pure parts of notifications: retry policy, Retry-After, signatures, sanitising, paging, audit."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dhash_gha.adapters.channels.audit import sanitise_details, write_atomically, write_record
from dhash_gha.adapters.channels.delivery import (
    HttpResponse,
    RetryPolicy,
    backoff_delay,
    judge_response,
    parse_retry_after,
    sanitise,
    wait_before_retry,
)
from dhash_gha.adapters.channels.webhook import sign, verify_signature
from dhash_gha.core.notify.paging import mentions, paged_roles

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("120", 120.0),
        ("1.5", 1.5),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # a date in the past: retry now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert [backoff_delay(n, policy, lambda: 1.0) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    assert backoff_delay(5, policy, lambda: 0.0) == 0.0
    assert backoff_delay(3, policy, lambda: 0.25) == 1.0


def test_retry_after_wins_over_backoff_and_is_capped() -> None:
    policy = RetryPolicy(retry_after_cap=60.0)
    verdict = judge_response(HttpResponse(503, {"retry-after": "3600"}, ""), NOW, "V")
    assert verdict.retry and wait_before_retry(verdict, 1, policy, lambda: 0.5) == 60.0
    verdict = judge_response(HttpResponse(502, {}, "bad gateway"), NOW, "V")
    assert verdict.retry and wait_before_retry(verdict, 2, policy, lambda: 0.5) == 1.0


@pytest.mark.parametrize(
    ("status", "retry", "config"),
    [
        (200, False, False),
        (204, False, False),
        (408, True, False),
        (429, True, False),
        (500, True, False),
        (400, False, True),
        (403, False, True),
        (404, False, True),
        (410, False, True),
        (401, False, False),
        (413, False, False),
    ],
)
def test_judge_response(status: int, retry: bool, config: bool) -> None:
    verdict = judge_response(HttpResponse(status, {}, "x"), NOW, "DHASH_HOOK_URL")
    assert verdict.ok is (200 <= status < 300)
    assert verdict.retry is retry and verdict.configuration_error is config
    if config:
        assert verdict.fix and "DHASH_HOOK_URL" in verdict.fix


def test_sanitise_removes_urls_secret_and_url_path() -> None:
    url = "https://hooks.slack.com/services/T1/B2/abc"
    text = f"error POST {url}: nope; path /services/T1/B2/abc; key s3cr3t; see http://x.example/a"
    clean = sanitise(text, [url, "s3cr3t"])
    assert "abc" not in clean and "s3cr3t" not in clean and "x.example" not in clean
    assert "hooks.slack.com" not in clean


def test_verify_signature_edges() -> None:
    body = b'{"a": 1}'
    header = sign("k", 1000, body)
    assert verify_signature("k", header, body, now=1000)
    assert verify_signature("k", header, body, now=1300, tolerance=300)
    assert not verify_signature("k", header, body, now=1301, tolerance=300)
    assert not verify_signature("k", header, body, now=699, tolerance=300)  # from the future
    assert not verify_signature("k", None, body, now=1000)
    assert not verify_signature("k", "garbage", body, now=1000)
    assert not verify_signature("k", "t=abc,v1=00", body, now=1000)
    assert not verify_signature("k", header.replace("t=1000", "t=1001"), body, now=1000)
    # a second v1 (key rotation) is accepted when one of them matches
    assert verify_signature("k", "t=1000,v1=deadbeef," + header.split(",")[1], body, now=1000)


def test_paging_and_mentions() -> None:
    config = {"paging": {"deploy": ["ops"]}, "roles": {"ops": "@ops", "on_call": "@oncall"}}
    assert paged_roles(config, "deploy") == ("ops",)
    assert paged_roles(config, "golden") == ("media_eng",)  # runbook default
    assert paged_roles({}, "test") == ()
    assert mentions(["on_call", "ops", "media_eng"], config["roles"], {"ops": "<!subteam^S1>"}) == [  # type: ignore[arg-type]
        "@oncall",
        "<!subteam^S1>",
        "@media_eng",
    ]


def test_sanitise_details_blanks_secret_keys_and_redacts() -> None:
    details = {
        "token": "abc",
        "webhook_url": "https://x/y",
        "reason": "failed posting to https://hooks.example/T/B/C with key zz9",
        "run_url": "https://github.com/acme/dhash/actions/runs/1",
        "value": 2450,
        "nested": {"secret": "s", "ok": [1, "zz9"]},
    }
    clean = sanitise_details(details, lambda text: text.replace("zz9", "***"))
    assert clean["token"] == "***" and clean["webhook_url"] == "***"
    assert "hooks.example" not in clean["reason"] and "zz9" not in clean["reason"]
    assert clean["run_url"] == details["run_url"] and clean["value"] == 2450
    assert clean["nested"] == {"secret": "***", "ok": [1, "***"]}


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "fallback" / "r.json"
    write_atomically(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    with pytest.raises(TypeError):
        write_atomically(tmp_path / "fallback" / "s.json", {"a": object()})
    assert sorted(p.name for p in target.parent.iterdir()) == ["r.json"]


def test_write_record_reports_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "notifications"
    blocker.write_text("file")
    errors: list[str] = []
    record = {"environment": "production", "type": "test"}
    assert write_record(blocker / "fallback", NOW, record, on_error=errors.append) is None
    assert errors and "cannot write the notification audit record" in errors[0]


class _AlwaysBusy:
    """A transport that answers 503 every time (the policy, not HTTP, is under test here)."""

    def __init__(self) -> None:
        self.calls = 0

    def post(self, url: str, body: bytes, headers: object, policy: RetryPolicy) -> HttpResponse:
        self.calls += 1
        return HttpResponse(503, {}, "busy")


def test_no_attempt_starts_after_the_delivery_deadline() -> None:
    from dhash_gha.adapters.channels.delivery import deliver
    from dhash_gha.core.clock import FakeClock

    clock = FakeClock(NOW)
    transport = _AlwaysBusy()
    outcome = deliver(
        "http://127.0.0.1:9/x",
        lambda: (b"{}", {}),
        transport=transport,
        policy=RetryPolicy(max_attempts=10, base_delay=4.0, max_delay=64.0, deadline_seconds=10.0),
        variable="V",
        secrets=[],
        now=clock.now,
        sleep=clock.sleep,
        rand=lambda: 1.0,
    )
    # waits 4 s after the first attempt; the next wait (8 s) would pass the 10 s deadline
    assert transport.calls == 2 and not outcome.ok
    assert "deadline" in outcome.reason and clock.monotonic() == 4.0


def test_signature_round_trip_and_any_change_is_refused() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(
        secret=st.text(min_size=1, max_size=40),
        body=st.binary(min_size=1, max_size=200),
        stamp=st.integers(min_value=0, max_value=2**33),
        flip=st.integers(min_value=0, max_value=10_000),
    )
    def check(secret: str, body: bytes, stamp: int, flip: int) -> None:
        header = sign(secret, stamp, body)
        assert verify_signature(secret, header, body, now=stamp)
        index = flip % len(body)
        changed = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
        assert not verify_signature(secret, header, changed, now=stamp)

    check()
