"""The demo: an embedded PostgreSQL, a small shop with notify triggers, a change generator."""
