"""Profiles against the real server: several at once, keyring and .pgpass passwords."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import psycopg
import pytest
from psycopg import sql

from pgwatch_gui.core.pg.conncheck import check_connection
from pgwatch_gui.core.pg.notify import send_notify_sync
from pgwatch_gui.core.profiles.imports import profile_from_dsn
from pgwatch_gui.core.profiles.secrets import SecretStore
from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.core.stream.listener import Listener
from tests.conftest import dsn_for
from tests.keyring_backend import TempFileKeyring
from tests.pgroles import password_role


@pytest.fixture
def second_db(pg_server):
    name = f"pgw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield dsn_for(pg_server, dbname=name)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


@pytest.fixture
def store(tmp_path):
    return ProfileStore(tmp_path / "profiles.json",
                        secrets=SecretStore(TempFileKeyring(tmp_path / "kr.json")))


def test_two_profiles_at_once_events_tagged_by_profile(store, pg_dsn, second_db):
    for name, dsn in (("Sales DB", pg_dsn), ("hr", second_db)):
        profile, password = profile_from_dsn(name, dsn)
        profile.channels = ["changes"]
        store.add(profile, password=password)
    got: list = []

    async def main():
        seq = itertools.count(1)  # one sequence over all connections, as the hub does
        listeners = [
            Listener(store.conninfo(name), store.require(name).channels, profile=name,
                     on_batch=got.extend, batch_interval=0.0, seq=seq)
            for name in store.names()
        ]
        for lst in listeners:
            lst.start()
        await asyncio.gather(*(lst.wait_listening(10) for lst in listeners))
        pids = {lst.profile: lst.backend_pid for lst in listeners}
        # the same channel name in both databases: only the profile tells them apart
        for dsn, payload in ((pg_dsn, "to-sales-1"), (second_db, "to-hr-1"),
                             (pg_dsn, "to-sales-2")):
            with psycopg.connect(dsn, autocommit=True) as conn:
                send_notify_sync(conn, "changes", payload)
        for _ in range(200):
            if len(got) >= 3:
                break
            await asyncio.sleep(0.01)
        for lst in listeners:
            await lst.stop()
        return pids

    pids = asyncio.run(main())
    tagged = sorted((e.profile, e.payload) for e in got)
    assert tagged == [("Sales DB", "to-sales-1"), ("Sales DB", "to-sales-2"),
                      ("hr", "to-hr-1")]
    assert pids["Sales DB"] != pids["hr"]
    assert len({e.seq for e in got}) == 3


def test_keyring_password_and_pgpass_both_work(store, pg_server, tmp_path, monkeypatch):
    secret = "p@ss:w/rd%-pgpass"
    with password_role(pg_server, secret) as role:
        profile, password = profile_from_dsn(
            "pw", dsn_for(pg_server, user=role, dbname="postgres", password=secret))
        store.add(profile, password=password)
        assert asyncio.run(check_connection(store.conninfo("pw"))).ok
        # no password anywhere: the server's own message comes back
        store.secrets.delete("pw")
        monkeypatch.delenv("PGPASSWORD", raising=False)
        monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
        r = asyncio.run(check_connection(store.conninfo("pw")))
        assert not r.ok and "no password supplied" in r.error
        # libpq's own .pgpass (":" and "\" escaped as its format wants) is used as it is
        pgpass = tmp_path / "pgpass"
        escaped = secret.replace("\\", "\\\\").replace(":", "\\:")
        pgpass.write_text(f"*:*:*:{role}:{escaped}\n")
        pgpass.chmod(0o600)
        monkeypatch.setenv("PGPASSFILE", str(pgpass))
        assert asyncio.run(check_connection(store.conninfo("pw"))).ok
        monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
        monkeypatch.setenv("PGPASSWORD", secret)
        assert asyncio.run(check_connection(store.conninfo("pw"))).ok
