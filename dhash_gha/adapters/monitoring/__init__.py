"""The monitor's files: its saved state, its poll log, and past logs read back for replay."""
