"""Tests of the logical replication change stream."""
