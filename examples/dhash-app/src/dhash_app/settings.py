"""The service's settings, read from ``config/{env}/dhash.json`` plus the environment."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dhash_app.faults import FaultConfigError, Faults, faults_from
from dhash_app.hashing import DEFAULT_MAX_PIXELS, HashMode
from dhash_app.matching import Thresholds

ENV_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
DEFAULT_MAX_UPLOAD_BYTES = 32 * 1024 * 1024
ENV_GIT_COMMIT = "DHASH_GIT_COMMIT"
ENV_FFMPEG = "DHASH_FFMPEG"
ENV_HASH_MODE = "DHASH_HASH_MODE"


class SettingsError(Exception):
    """The service cannot start with this configuration (message names the fix)."""


@dataclass(frozen=True)
class Settings:
    root: Path
    env: str
    host: str = "127.0.0.1"
    port: int = 8780
    media_root: Path | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    faults: Faults = field(default_factory=Faults)
    hash_mode: HashMode = "exact"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    video_times: tuple[float, ...] = (0.0,)
    ffmpeg: str = "ffmpeg"
    git_commit: str = "unknown"

    @property
    def data_dir(self) -> Path:
        return self.root / "data" / self.env

    @property
    def database(self) -> Path:
        return self.data_dir / "dhash.sqlite3"

    @property
    def queue_file(self) -> Path:
        return self.data_dir / "low_confidence.queue"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"


def load_settings(root: Path, env: str, environ: Mapping[str, str]) -> Settings:
    if not ENV_NAME.match(env):
        raise SettingsError(f"invalid environment name {env!r}: use e.g. production or staging")
    config_file = root / "config" / env / "dhash.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            f"config file {config_file} not found: create config/{env}/dhash.json under --root"
        ) from None
    except json.JSONDecodeError as exc:
        raise SettingsError(f"config file {config_file} is not valid JSON: {exc}") from None
    component: dict[str, Any] = config.get("component") or {}
    matching = component.get("matching") or {}
    try:
        thresholds = Thresholds(
            int(matching.get("match_distance", 8)), int(matching.get("ambiguous_distance", 16))
        )
        faults = faults_from(component.get("faults") or {}, environ)
    except (FaultConfigError, ValueError) as exc:
        raise SettingsError(f"{config_file}: {exc}") from None
    media = component.get("media_root")
    mode = environ.get(ENV_HASH_MODE, "exact").strip() or "exact"
    if mode not in ("exact", "fast"):
        raise SettingsError(f"{ENV_HASH_MODE} must be 'exact' or 'fast', got {mode!r}")
    return Settings(
        root=root,
        env=env,
        host=str(component.get("host", "127.0.0.1")),
        port=int(component.get("port", 8780)),
        media_root=(root / media) if media else None,
        thresholds=thresholds,
        faults=faults,
        hash_mode="fast" if mode == "fast" else "exact",
        ffmpeg=environ.get(ENV_FFMPEG, "").strip() or "ffmpeg",
        git_commit=environ.get(ENV_GIT_COMMIT, "").strip() or "unknown",
    )
