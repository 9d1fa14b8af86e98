"""Watching row changes through logical replication in the window."""
