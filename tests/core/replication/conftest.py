"""A wal_level=logical server for the session, a fresh database per test, a stream runner."""

from __future__ import annotations

import os

import pytest

from tests.replication_server import drop_database, fresh_database, start_logical_server


@pytest.fixture(scope="session")
def logical_server():
    dsn = os.environ.get("PGWATCH_TEST_LOGICAL_DSN")
    if dsn:
        yield dsn
        return
    uri, cleanup = start_logical_server()
    yield uri
    cleanup()


@pytest.fixture
def logical_dsn(logical_server):
    dsn = fresh_database(logical_server)
    yield dsn
    drop_database(logical_server, dsn)
