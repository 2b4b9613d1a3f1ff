"""Backups of the component's tree: create, verify, list, prune, and the crash-safe restore.

``from dhash_gha.adapters.archive import create_backup, verify_backup, latest_backup,
read_manifest, restore_backup`` is the contract other modules use.
"""

from dhash_gha.adapters.archive.create import BackupResult, create_backup
from dhash_gha.adapters.archive.listing import (
    BackupInfo,
    latest_backup,
    list_backups,
    prune_backups,
)
from dhash_gha.adapters.archive.restore import RestoreResult, restore_backup
from dhash_gha.adapters.archive.verify import VerifyResult, read_manifest, verify_backup

__all__ = [
    "BackupInfo",
    "BackupResult",
    "RestoreResult",
    "VerifyResult",
    "create_backup",
    "latest_backup",
    "list_backups",
    "prune_backups",
    "read_manifest",
    "restore_backup",
    "verify_backup",
]
