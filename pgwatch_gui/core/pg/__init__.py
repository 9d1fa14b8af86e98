"""PostgreSQL plumbing all features share: connecting, names, notify rules, server checks."""
