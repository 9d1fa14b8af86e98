"""Row changes through logical replication: a temporary pgoutput slot, no trigger (Qt-free)."""
