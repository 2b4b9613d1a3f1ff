"""Is the environment ready for a deploy? The runbook's readiness checks, each ✅/❌ with the fix.

Checks (names usable with ``deploy --skip-preflight NAME``):
``config``, ``release-health``, ``incidents``, ``maintenance``, ``disk``, ``backup``, ``webhooks``.

An incident is open while ``incidents/INC-…/`` has no ``RESOLVED`` file; an
incident whose ``incident.json`` names another environment does not block this
one. Webhooks are checked by DNS resolution and a TCP connect only: nothing is
posted, and the URL (a secret) is never printed.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.archive import verify_backup
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.health import probe
from dhash_gha.adapters.incident_files.archive import RESOLVED_MARKER, open_incidents
from dhash_gha.adapters.releases import read_release
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.checklist import CheckResult
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.errors import DhashError

CHECKS = ("config", "release-health", "incidents", "maintenance", "disk", "backup", "webhooks")
LOG_HEADROOM_BYTES = 64 * 1024 * 1024
_WEBHOOK_CHANNELS = ("slack", "webhook")


def tree_bytes(ws: Workspace, tops: list[str]) -> int:
    total = 0
    for top in tops:
        base = ws.root / top
        if base.is_file():
            total += base.stat().st_size
        elif base.is_dir():
            total += sum(p.stat().st_size for p in base.rglob("*") if p.is_file())
    return total


def disk_needed(tree_size: int) -> int:
    """A backup (stored, worst case), a restore's staging copy, and room for logs."""
    return 2 * tree_size + LOG_HEADROOM_BYTES


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


def check_disk(ws: Workspace, config: Mapping[str, Any]) -> CheckResult:
    tops = [str(t) for t in config.get("backup", {}).get("include", ["src", "config"])]
    size = tree_bytes(ws, tops)
    need = disk_needed(size)
    free = shutil.disk_usage(ws.root).free
    detail = f"{_mib(free)} free, {_mib(need)} needed (tree {_mib(size)} ×2 + logs)"
    if free >= need:
        return CheckResult("disk", True, detail)
    return CheckResult("disk", False, detail, "free disk space (prune old backups: backup prune)")


def check_incidents(ws: Workspace, env: str) -> CheckResult:
    found = open_incidents(ws, env)
    if not found:
        return CheckResult("incidents", True, "no open incident")
    return CheckResult(
        "incidents",
        False,
        f"open incident(s): {', '.join(found)}",
        f"close it after review: create incidents/{found[-1]}/{RESOLVED_MARKER}",
    )


def check_maintenance(ws: Workspace, env: str) -> CheckResult:
    flag = ws.maintenance_flag(env)
    if not flag.exists():
        return CheckResult("maintenance", True, "no maintenance flag")
    try:
        why = flag.read_text(encoding="utf-8").strip()[:200]
    except OSError:
        why = ""
    return CheckResult(
        "maintenance",
        False,
        f"maintenance flag set ({flag.relative_to(ws.root).as_posix()})"
        + (f": {why}" if why else ""),
        f"finish the maintenance, then remove {flag.relative_to(ws.root).as_posix()}",
    )


def check_backup(ws: Workspace, env: str) -> CheckResult:
    backups = ws.backups(env)
    if not backups:
        return CheckResult("backup", True, "no backup yet (first deploy): deploy will make one")

    latest = backups[0]
    name = latest.relative_to(ws.root).as_posix()
    try:
        verify_backup(latest)
    except DhashError as exc:
        return CheckResult(
            "backup",
            False,
            f"{name} does not verify: {exc.message}",
            "make a fresh backup (dhash-gha backup create) and move the bad one aside",
        )
    return CheckResult("backup", True, f"{name} verifies")


def reachable(url: str, timeout: float) -> str | None:
    """None when the URL's host resolves and accepts a TCP connection; else why not."""
    try:  # the messages of urlsplit's ValueErrors quote parts of the (secret) URL
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "not a valid URL (bad host or port)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    try:
        addresses = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return "host name does not resolve (DNS)"
    for family, kind, proto, _, address in addresses:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
                return None
        except OSError:
            continue
    return f"TCP connect to port {port} failed"


def check_webhooks(
    config: Mapping[str, Any], environ: Mapping[str, str], reporter: Reporter, timeout: float = 3.0
) -> CheckResult:
    problems, reached, unset = [], [], []
    for channel in config.get("notifications", {}).get("channels", []):
        if channel.get("type") not in _WEBHOOK_CHANNELS:
            continue
        variable = str(channel.get("url_env", ""))
        url = environ.get(variable) or ""
        if not url:
            unset.append(f"{channel['name']} (${variable} not set)")
            continue
        reporter.mask(url)
        why = reachable(url, timeout)
        if why:
            problems.append(f"{channel['name']} (${variable}): {why}")
        else:
            reached.append(str(channel["name"]))
    parts = []
    if reached:
        parts.append(f"reachable: {', '.join(reached)}")
    if unset:
        parts.append(f"not configured: {', '.join(unset)} — notifications go to the audit only")
    if problems:
        return CheckResult(
            "webhooks",
            False,
            "; ".join(problems + parts),
            "check the URL in the named variable and the network/firewall (nothing was posted)",
        )
    return CheckResult("webhooks", True, "; ".join(parts) or "no webhook channel configured")


def check_release_health(
    ws: Workspace, env: str, config: Mapping[str, Any], clock: Clock
) -> CheckResult:

    record = read_release(ws, env)
    if record is None:
        return CheckResult("release-health", True, "no release deployed yet (first deploy)")
    release = record.get("release_id")
    process = supervisor.status(ws, env, config, clock=clock)
    if not process.running:
        return CheckResult(
            "release-health",
            False,
            f"release {release} is recorded but {process.detail}",
            f"start it (dhash-gha service start --env {env}) or investigate before deploying",
        )
    health = config["health"]
    result = probe(str(health["url"]), float(health.get("timeout_seconds", 2.0)))
    if result.ok:
        return CheckResult("release-health", True, f"release {release} healthy ({result.detail})")
    return CheckResult(
        "release-health",
        False,
        f"release {release} unhealthy: {result.detail}",
        f"investigate (dhash-gha status --env {env}) or roll back before deploying",
    )


def run_preflight(
    ws: Workspace, env: str, *, environ: Mapping[str, str], clock: Clock, reporter: Reporter
) -> list[CheckResult]:
    """Run every check; a check that crashes is a ❌ naming the error, never an exception."""

    results: list[CheckResult] = []
    try:
        config = load_env_config(ws, env)
    except DhashError as exc:
        return [CheckResult("config", False, exc.message, exc.tip, iso_utc(clock.now()))]
    results.append(CheckResult("config", True, f"config/{env}/dhash.json valid", None))
    steps: list[tuple[str, Callable[[], CheckResult]]] = [
        ("release-health", lambda: check_release_health(ws, env, config, clock)),
        ("incidents", lambda: check_incidents(ws, env)),
        ("maintenance", lambda: check_maintenance(ws, env)),
        ("disk", lambda: check_disk(ws, config)),
        ("backup", lambda: check_backup(ws, env)),
        ("webhooks", lambda: check_webhooks(config, environ, reporter)),
    ]
    for name, step in steps:
        try:
            results.append(step())
        except DhashError as exc:
            results.append(CheckResult(name, False, exc.message, exc.tip))
        except OSError as exc:
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"))
    stamp = iso_utc(clock.now())
    return [CheckResult(r.name, r.ok, r.detail, r.fix, stamp) for r in results]
