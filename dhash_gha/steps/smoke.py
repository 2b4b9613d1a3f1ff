"""Smoke tests against the running component, after a deploy or a rollback.

Checks: ``config``, ``process``, ``health`` (after a rollback: N consecutive
OK probes, ``health.consecutive_ok_after_rollback``, 3 by default), ``metrics``
(parsed with prometheus-client's parser; the component's metric families must
be there), ``golden`` (the component's own golden validation, run from its
source tree against the running service), ``backup`` (the latest verifies),
``logs`` (logs/ is writable).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.archive import verify_backup
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.readiness import wait_healthy
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.supervisor import component_cwd
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.checklist import CheckResult
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.errors import DhashError

EXPECTED_FAMILIES = (
    "dhash_hash_duration_seconds",
    "dhash_extraction_attempts",
    "dhash_extraction_failures",
    "dhash_low_confidence_queue_depth",
    "dhash_build_info",
)
GOLDEN_TIMEOUT_SECONDS = 120.0


def missing_families(text: str) -> list[str]:
    """Pure: which expected metric families the exposition lacks (raises ValueError on garbage)."""
    from prometheus_client.parser import text_string_to_metric_families

    names = {family.name for family in text_string_to_metric_families(text)}
    names |= {f"{name}_info" for name in names}  # an Info metric parses as NAME or NAME_info
    return [name for name in EXPECTED_FAMILIES if name not in names]


def check_metrics(config: Mapping[str, Any]) -> CheckResult:
    import httpx

    url = str(config["metrics"]["url"])
    try:
        response = httpx.get(url, timeout=float(config["metrics"].get("timeout_seconds", 2.0)))
    except httpx.HTTPError as exc:
        return CheckResult(
            "metrics",
            False,
            f"{url} unreachable: {type(exc).__name__}",
            "start the component (dhash-gha service start)",
        )
    if response.status_code != 200:
        return CheckResult(
            "metrics",
            False,
            f"{url} answered HTTP {response.status_code}",
            "check the component's log",
        )
    try:
        missing = missing_families(response.text)
    except ValueError as exc:
        return CheckResult(
            "metrics",
            False,
            f"{url} does not parse as Prometheus text: {exc}",
            "fix the component's /metrics output",
        )
    if missing:
        return CheckResult(
            "metrics",
            False,
            f"missing metric families: {', '.join(missing)}",
            "the running build does not export every metric: check its version",
        )
    return CheckResult("metrics", True, f"{len(EXPECTED_FAMILIES)} metric families parse")


def check_health(
    config: Mapping[str, Any], *, consecutive: int, clock: Clock, reporter: Reporter
) -> CheckResult:

    # A smoke test reports the state it finds: allow just enough time for the N probes.
    interval = float(config["health"].get("interval_seconds", 1.0))
    timeout = float(config["health"].get("timeout_seconds", 2.0))
    window = {**config["health"], "deadline_seconds": consecutive * (interval + timeout)}
    waited = wait_healthy(
        {**config, "health": window},
        clock=clock,
        reporter=reporter,
        consecutive=consecutive,
        announce=False,
    )
    detail = f"{waited.consecutive}/{consecutive} consecutive OK ({waited.detail})"
    if waited.ok:
        return CheckResult("health", True, detail)
    return CheckResult("health", False, detail, "read the component's log (logs/dhash_*.log)")


def base_url(health_url: str) -> str:
    parts = urlsplit(health_url)
    return f"{parts.scheme}://{parts.netloc}"


def check_golden(ws: Workspace, env: str, config: Mapping[str, Any]) -> CheckResult:

    golden_dir = ws.root / "golden"
    if not (golden_dir / "expected.json").is_file():
        return CheckResult(
            "golden",
            False,
            "no golden set (golden/expected.json missing)",
            "restore golden/ from the repository",
        )
    argv = [
        sys.executable,
        "-m",
        "dhash_app",
        "golden",
        "--url",
        base_url(str(config["health"]["url"])),
        "--golden-dir",
        str(golden_dir),
        "--json",
    ]
    try:
        done = subprocess.run(
            argv,
            cwd=component_cwd(ws, config),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=GOLDEN_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CheckResult(
            "golden",
            False,
            f"golden validation did not run: {exc}",
            "check the component's source tree (src/)",
        )
    try:
        payload = json.loads(done.stdout)
    except ValueError:
        payload = None
    if done.returncode == 0:
        checked = payload.get("checked") if isinstance(payload, dict) else None
        return CheckResult(
            "golden",
            True,
            f"{checked if checked is not None else 'all'} golden images hash as expected",
        )
    why = golden_failure(payload) or (done.stderr.strip().splitlines() or ["no output"])[-1]
    if UNHASHED in why:  # the component did not answer: nothing says its hashes are wrong
        fix = (
            f"check the component is up and healthy (dhash-gha status --env {env}); if it is, "
            "the release cannot hash at all: roll back and investigate"
        )
    else:
        fix = "the running build hashes differently: roll back and investigate"
    return CheckResult("golden", False, f"golden validation failed: {why}", fix)


UNHASHED = "golden image(s) could not be hashed"


def golden_failure(payload: Any) -> str | None:
    """Pure: "N mismatch(es) of M, first: FILE expected X, got Y" from the golden JSON result."""
    if not isinstance(payload, dict) or not isinstance(payload.get("cases"), list):
        return None
    bad = [c for c in payload["cases"] if isinstance(c, dict) and not c.get("ok")]
    if not bad:
        return None
    first = bad[0]
    what = first.get("error") or f"expected {first.get('expected')}, got {first.get('actual')}"
    if all(c.get("error") for c in bad):  # no hash came back at all: requests failed
        return (
            f"{len(bad)} of {len(payload['cases'])} {UNHASHED}, first: {first.get('file')}: {what}"
        )
    return f"{len(bad)} mismatch(es) of {len(payload['cases'])}, first: {first.get('file')}: {what}"


def check_backup(ws: Workspace, env: str) -> CheckResult:

    backups = ws.backups(env)
    if not backups:
        return CheckResult(
            "backup",
            False,
            f"no backup of '{env}'",
            f"make one: dhash-gha backup create --env {env}",
        )
    name = backups[0].relative_to(ws.root).as_posix()
    try:
        verify_backup(backups[0])
    except DhashError as exc:
        return CheckResult(
            "backup",
            False,
            f"{name} does not verify: {exc.message}",
            "make a fresh backup and move the bad one aside",
        )
    return CheckResult("backup", True, f"{name} verifies")


def check_logs(ws: Workspace) -> CheckResult:
    probe_file = ws.logs_dir / ".smoke_write_test"
    try:
        ws.logs_dir.mkdir(parents=True, exist_ok=True)
        probe_file.write_text("ok\n", encoding="utf-8")
        probe_file.unlink()
    except OSError as exc:
        return CheckResult(
            "logs",
            False,
            f"{ws.logs_dir} is not writable: {exc}",
            "fix the permissions or free disk space",
        )
    return CheckResult("logs", True, "logs/ writable")


def run_smoke(
    ws: Workspace,
    env: str,
    *,
    post_rollback: bool,
    clock: Clock,
    reporter: Reporter,
    golden: Callable[[Workspace, str, Mapping[str, Any]], CheckResult] = check_golden,
) -> list[CheckResult]:
    """Every check, in order; each stamped with the time it finished."""

    results: list[CheckResult] = []

    def stamp(result: CheckResult) -> None:
        results.append(
            CheckResult(result.name, result.ok, result.detail, result.fix, iso_utc(clock.now()))
        )

    try:
        config = load_env_config(ws, env)
    except DhashError as exc:
        stamp(CheckResult("config", False, exc.message, exc.tip))
        stamp(check_logs(ws))
        return results
    stamp(CheckResult("config", True, f"config/{env}/dhash.json valid"))
    process = supervisor.status(ws, env, config, clock=clock)
    stamp(
        CheckResult(
            "process",
            process.running,
            process.detail,
            None if process.running else f"dhash-gha service start --env {env}",
        )
    )
    consecutive = (
        int(config["health"].get("consecutive_ok_after_rollback", 3)) if post_rollback else 1
    )
    steps: list[tuple[str, Callable[[], CheckResult]]] = [
        (
            "health",
            lambda: check_health(config, consecutive=consecutive, clock=clock, reporter=reporter),
        ),
        ("metrics", lambda: check_metrics(config)),
        ("golden", lambda: golden(ws, env, config)),
        ("backup", lambda: check_backup(ws, env)),
        ("logs", lambda: check_logs(ws)),
    ]
    for name, step in steps:
        try:
            stamp(step())
        except DhashError as exc:
            stamp(CheckResult(name, False, exc.message, exc.tip))
    return results


def append_output(path: Path, phase: str, env: str, results: list[CheckResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"# smoke {phase} {env}\n")
        for result in results:
            handle.write(result.line() + "\n")
