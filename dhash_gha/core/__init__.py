"""The pure core: rules and calculations with no I/O.

Nothing here opens a file or socket, starts a process or reads the real clock:
gate evaluation, schedules, protection policy, archive entry and manifest rules,
name rules, renderers. May import only ``dhash_gha.core`` and ``dhash_gha.errors``.
"""
