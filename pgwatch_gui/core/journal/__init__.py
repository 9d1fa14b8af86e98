"""The journal: every event the window receives, kept on disk (SQLite, WAL) for history."""
