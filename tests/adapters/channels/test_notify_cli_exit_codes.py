"""``dhash-gha notify``: exit codes, the audit file, dry-run, and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from notify_receiver import Receiver, Reply

from dhash_gha.core.clock import FakeClock

RunCli = Callable[..., tuple[int, str, str]]
HOOK_SECRET = "whsec-cli-never-in-files-91c2"
LATER = datetime(2026, 1, 1, 0, 5, tzinfo=timezone.utc)


def use_channels(root: Path, channels: list[dict[str, object]]) -> None:
    path = root / "config" / "production" / "dhash.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["notifications"]["channels"] = channels
    path.write_text(json.dumps(data), encoding="utf-8")


def records(root: Path) -> list[dict[str, object]]:
    folder = root / "notifications" / "fallback"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def scan_for(root: Path, *secrets: str) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            for secret in secrets:
                assert secret not in text, f"{secret!r} in {path}"


def test_delivered_is_0_and_timeout_is_1_with_the_audit_file_written(
    example_workspace: Path, clean_environ: dict[str, str], run_cli: RunCli
) -> None:
    use_channels(
        example_workspace,
        [
            {
                "name": "hook",
                "type": "webhook",
                "url_env": "DHASH_WEBHOOK_URL",
                "secret_env": "DHASH_WEBHOOK_SECRET",
                "timeout_seconds": 0.3,
                "max_attempts": 2,
            }
        ],
    )
    root = str(example_workspace)
    with Receiver([Reply(200, "ok")]) as fast:
        url = fast.base + "/hooks/secret-path-xyz"
        env = {**clean_environ, "DHASH_WEBHOOK_URL": url, "DHASH_WEBHOOK_SECRET": HOOK_SECRET}
        code, out, err = run_cli(
            "--root",
            root,
            "notify",
            "--type",
            "deploy",
            "--env",
            "production",
            "--message",
            "deployed r1",
            "--details-json",
            '{"release": "r1"}',
            environ=env,
            clock=FakeClock(),
        )
    assert code == 0, err
    assert "hook (webhook): delivered" in out
    with Receiver([Reply(200, "late", delay=1.5)]) as slow:
        url = slow.base + "/hooks/secret-path-xyz"
        env = {**clean_environ, "DHASH_WEBHOOK_URL": url, "DHASH_WEBHOOK_SECRET": HOOK_SECRET}
        code, out, err = run_cli(
            "--root",
            root,
            "notify",
            "--type",
            "critical",
            "--env",
            "production",
            "--message",
            "service down",
            environ=env,
            clock=FakeClock(LATER),
        )
    assert code == 1
    assert "timeout" in err and "secret-path-xyz" not in out + err
    written = records(example_workspace)
    assert [r["type"] for r in written] == ["deploy", "critical"]
    assert written[1]["channels"][0]["status"] == "failed"  # type: ignore[index]
    assert written[0]["details"] == {"release": "r1"}
    scan_for(example_workspace, "secret-path-xyz", HOOK_SECRET)
    logs = list((example_workspace / "logs").glob("notify_production_*.log"))
    assert logs and "notification_channel" in logs[0].read_text(encoding="utf-8")


def test_dry_run_and_unset_variables_exit_0(
    example_workspace: Path, clean_environ: dict[str, str], run_cli: RunCli
) -> None:
    code, _out, err = run_cli(
        "--root",
        str(example_workspace),
        "notify",
        "--type",
        "test",
        "--env",
        "production",
        "--message",
        "hello",
        "--dry-run",
        environ=clean_environ,
    )
    assert code == 0, err
    (record,) = records(example_workspace)
    statuses = {c["name"]: (c["status"], c.get("reason", "")) for c in record["channels"]}  # type: ignore[attr-defined,index]
    # the example config's variables are not set: every channel is skipped, naming its variable
    assert (
        statuses["ops-slack"][0] == "skipped"
        and "DHASH_SLACK_WEBHOOK_URL" in statuses["ops-slack"][1]
    )
    assert "GITHUB_TOKEN" in statuses["incident-issue"][1]
    assert record["dry_run"] is True


def test_dry_run_with_variables_renders_and_sends_nothing(
    example_workspace: Path, clean_environ: dict[str, str], run_cli: RunCli
) -> None:
    with Receiver() as rx:
        env = {**clean_environ, "DHASH_SLACK_WEBHOOK_URL": rx.base + "/services/T/B/tok"}
        code, out, err = run_cli(
            "--root",
            str(example_workspace),
            "notify",
            "--type",
            "gate",
            "--env",
            "production",
            "--message",
            "gate failed",
            "--dry-run",
            environ=env,
        )
    assert code == 0, err
    assert rx.requests == []
    assert "== ops-slack: rendered payload" in out and '"type": "header"' in out
    (record,) = records(example_workspace)
    assert record["channels"][0]["status"] == "dry-run"  # type: ignore[index]
    assert "ops-slack" in record["rendered"]  # type: ignore[operator]
    scan_for(example_workspace, "/services/T/B/tok")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--type", "test", "--env", "prodution", "--message", "x"], "did you mean 'production'"),
        (["--type", "tset", "--env", "production", "--message", "x"], "invalid choice"),
        (["--type", "test", "--env", "../etc", "--message", "x"], "invalid environment name"),
        (
            ["--type", "test", "--env", "production", "--message", "x", "--details-json", "{bad"],
            "not valid JSON",
        ),
        (
            ["--type", "test", "--env", "production", "--message", "x", "--details-json", "[1]"],
            "must be a JSON object",
        ),
    ],
)
def test_bad_input_is_2_and_writes_nothing(
    example_workspace: Path,
    clean_environ: dict[str, str],
    run_cli: RunCli,
    argv: list[str],
    message: str,
) -> None:
    code, _, err = run_cli("--root", str(example_workspace), "notify", *argv, environ=clean_environ)
    assert code == 2 and message in err
    assert records(example_workspace) == []


def test_invalid_channel_config_is_recorded_and_exit_2(
    example_workspace: Path, clean_environ: dict[str, str], run_cli: RunCli
) -> None:
    use_channels(
        example_workspace, [{"name": "s", "type": "slack", "url": "https://hooks.slack.com/x"}]
    )
    code, _, err = run_cli(
        "--root",
        str(example_workspace),
        "notify",
        "--type",
        "test",
        "--env",
        "production",
        "--message",
        "x",
        environ=clean_environ,
    )
    assert code == 2 and "url_env" in err
    (record,) = records(example_workspace)
    assert record["delivered"] is False and "error" in record
    scan_for(example_workspace / "notifications", "https://hooks.slack.com/x")


def test_unwritable_fallback_directory_is_reported_not_fatal(
    example_workspace: Path, clean_environ: dict[str, str], run_cli: RunCli
) -> None:
    # a file where the directory should be: mkdir fails on every platform
    (example_workspace / "notifications").write_text("not a directory", encoding="utf-8")
    use_channels(example_workspace, [])
    code, _, err = run_cli(
        "--root",
        str(example_workspace),
        "notify",
        "--type",
        "test",
        "--env",
        "production",
        "--message",
        "x",
        environ=clean_environ,
    )
    assert code == 0
    assert "cannot write the notification audit record" in err


def test_on_actions_secrets_are_masked_and_the_summary_lists_channels(
    example_workspace: Path, clean_environ: dict[str, str], run_cli: RunCli, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    with Receiver() as rx:
        url = rx.base + "/services/T9/B9/maskme"
        env = {
            **clean_environ,
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(summary),
            "DHASH_SLACK_WEBHOOK_URL": url,
            "DHASH_WEBHOOK_URL": url,
            "DHASH_WEBHOOK_SECRET": HOOK_SECRET,
        }
        code, out, err = run_cli(
            "--root",
            str(example_workspace),
            "notify",
            "--type",
            "deploy",
            "--env",
            "production",
            "--message",
            "deployed",
            environ=env,
        )
    assert code == 0, out + err
    assert f"::add-mask::{url}" in err and f"::add-mask::{HOOK_SECRET}" in err
    # besides the mask commands (on stderr, so stdout stays clean), the secret never shows
    assert url not in out and url not in err.replace(f"::add-mask::{url}", "")
    text = summary.read_text(encoding="utf-8")
    assert "| ops-slack | slack | delivered |" in text and "maskme" not in text
    scan_for(example_workspace, "maskme", HOOK_SECRET)


def test_a_mistake_outside_notifications_does_not_silence_them(
    example_workspace: Path, clean_environ: dict[str, str], run_cli: RunCli
) -> None:
    path = example_workspace / "config" / "production" / "dhash.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["component"]["port"] = "not-a-port"
    data["notifications"]["channels"] = [
        {"name": "hook", "type": "webhook", "url_env": "DHASH_WEBHOOK_URL"}
    ]
    path.write_text(json.dumps(data), encoding="utf-8")
    with Receiver() as rx:
        env = {**clean_environ, "DHASH_WEBHOOK_URL": rx.base + "/h"}
        code, _, err = run_cli(
            "--root",
            str(example_workspace),
            "notify",
            "--type",
            "critical",
            "--env",
            "production",
            "--message",
            "bad config deployed",
            environ=env,
        )
    assert code == 0, err
    assert len(rx.requests) == 1
    assert "notifications section is valid and is used" in err
