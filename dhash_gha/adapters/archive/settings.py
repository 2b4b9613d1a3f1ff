"""The ``backup`` section of ``config/{env}/dhash.json``, with its defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dhash_gha.adapters.archive.tree import check_include
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.archive.entries import Limits

DEFAULT_INCLUDE = ("src", "config", "deployments")
DEFAULT_EXCLUDE = ("**/__pycache__/**", "**/*.pyc")


@dataclass(frozen=True)
class BackupSettings:
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    keep: int
    limits: Limits

    @classmethod
    def from_section(cls, section: dict[str, Any] | None) -> BackupSettings:
        section = section or {}
        defaults = Limits()
        return cls(
            include=tuple(check_include(section.get("include", DEFAULT_INCLUDE))),
            exclude=tuple(section.get("exclude", DEFAULT_EXCLUDE)),
            keep=int(section.get("keep", 10)),
            limits=Limits(
                max_total_bytes=int(
                    section.get("max_uncompressed_bytes", defaults.max_total_bytes)
                ),
                max_ratio=float(section.get("max_compression_ratio", defaults.max_ratio)),
            ),
        )


def load_settings(ws: Workspace, env: str) -> BackupSettings:
    return BackupSettings.from_section(load_env_config(ws, env).get("backup"))
