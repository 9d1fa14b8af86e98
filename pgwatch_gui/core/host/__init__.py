"""The user's machine: the log file, the desktop entry, files kept owner-only."""
