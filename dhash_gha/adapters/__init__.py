"""Adapters: everything that touches the world, around the pure core.

The host root's files, configuration, archives, locks, processes, HTTP, GitHub,
metric sources and notification channels. May import ``dhash_gha.core``,
other adapters and ``dhash_gha.errors``; never a runbook step or the CLI.
"""
