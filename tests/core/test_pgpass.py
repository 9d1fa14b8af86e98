"""libpq's password file, where a password goes when no keyring can keep it (issue 21:
`profiles add --password-stdin` without a keyring exited 0 and dropped the password)."""

from __future__ import annotations

import asyncio
import os
import stat

import psycopg
import pytest
from keyring.backends import fail

from pgwatch_gui.core.pg.conncheck import check_connection
from pgwatch_gui.core.profiles import pgpass
from pgwatch_gui.core.profiles.imports import profile_from_dsn
from pgwatch_gui.core.profiles.secrets import SecretStore
from pgwatch_gui.core.profiles.store import ProfileStore
from tests.conftest import dsn_for
from tests.pgroles import password_role

AWKWARD = r"p@ss:w/rd\%-Xy7"


@pytest.fixture
def passfile(tmp_path, monkeypatch):
    path = tmp_path / "pgpass"
    monkeypatch.setenv("PGPASSFILE", str(path))
    for var in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE", "PGPASSWORD"):
        monkeypatch.delenv(var, raising=False)
    return path


def test_targets_fill_in_libpq_defaults(passfile, monkeypatch, tmp_path):
    t = pgpass.targets
    assert t("host=db.example.com port=6432 dbname=app user=bob") == [
        ("db.example.com", "6432", "app", "bob")]
    me = t("")[0][3]
    assert me  # the login name, as libpq takes it
    assert t("dbname=app") == [("localhost", "5432", "app", me)]
    assert t("user=bob") == [("localhost", "5432", "bob", "bob")]  # database = user
    assert t("host=/var/run/postgresql user=u dbname=d") == [
        ("/var/run/postgresql", "5432", "d", "u")]
    assert t("host=a,b port=1,2 user=u dbname=d") == [("a", "1", "d", "u"), ("b", "2", "d", "u")]
    assert t("host=h user=u dbname=d port=7", any_port=True) == [("h", "*", "d", "u")]
    monkeypatch.setenv("PGHOST", "envhost")
    monkeypatch.setenv("PGPORT", "6000")
    assert t("user=u dbname=d") == [("envhost", "6000", "d", "u")]
    monkeypatch.delenv("PGHOST")
    monkeypatch.delenv("PGPORT")
    conf = tmp_path / "svc.conf"
    conf.write_text("[rep]\nhost=rephost\nport=5433\ndbname=reports\nuser=ro\n")
    monkeypatch.setenv("PGSERVICEFILE", str(conf))
    assert t("service=rep") == [("rephost", "5433", "reports", "ro")]
    assert t("service=rep user=other") == [("rephost", "5433", "reports", "other")]


def test_save_writes_one_escaped_line_first_replaces_its_own_keeps_the_rest(passfile):
    passfile.write_text("# mine\n*:*:*:*:wildcard\nother:5432:x:y:keep\n")
    assert pgpass.save("host=h:1 port=5432 dbname=d user=u", AWKWARD) == passfile
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    lines = passfile.read_text().splitlines()
    assert lines[0] == r"h\:1:5432:d:u:p@ss\:w/rd\\%-Xy7"  # first: a wildcard must not win
    assert lines[1:] == ["# mine", "*:*:*:*:wildcard", "other:5432:x:y:keep"]
    pgpass.save("host=h:1 port=5432 dbname=d user=u", "new")
    assert passfile.read_text().splitlines() == [
        r"h\:1:5432:d:u:new", "# mine", "*:*:*:*:wildcard", "other:5432:x:y:keep"]
    with pytest.raises(ValueError):
        pgpass.save("host=h", "two\nlines")


def test_libpq_finds_the_saved_password(passfile, pg_server):
    with password_role(pg_server, AWKWARD) as role:
        dsn = dsn_for(pg_server, user=role, dbname="postgres")
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(dsn).close()
        store = ProfileStore(passfile.parent / "profiles.json",
                             secrets=SecretStore(fail.Keyring()))
        profile, _ = profile_from_dsn("pw", dsn)
        store.add(profile)
        where = pgpass.keep_password(store.secrets, "pw", profile.conninfo(), AWKWARD)
        assert where == str(passfile)
        store.secrets.delete("pw")  # gone from memory too: only the file knows it
        with psycopg.connect(store.conninfo("pw")) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == role
        assert asyncio.run(check_connection(store.conninfo("pw"))).ok


def test_a_usable_keyring_gets_it_and_no_file_is_written(passfile, test_keyring):
    store = SecretStore(test_keyring)
    assert pgpass.keep_password(store, "k", "host=h user=u", AWKWARD) == "the keyring"
    assert not passfile.exists()
    test_keyring.delete_password("pgwatch-gui", "k")


def test_a_file_that_cannot_be_written_says_so(passfile, monkeypatch):
    monkeypatch.setenv("PGPASSFILE", os.devnull + "/pgpass")  # under a file: no folder
    with pytest.raises(OSError):
        pgpass.keep_password(SecretStore(fail.Keyring()), "x", "host=h", "pw")


def test_the_window_note_says_where_it_went(passfile):
    secrets = SecretStore(fail.Keyring())
    profile, _ = profile_from_dsn("w", "host=h user=u dbname=d")
    note = pgpass.save_password(secrets, "w", "pw", profile)
    assert note == f"w: no usable keyring: the password went to {passfile} (mode 0600), " \
                   "where libpq finds it."
    assert passfile.read_text() == "h:5432:d:u:pw\n"
    assert pgpass.save_password(secrets, "w", "pw", None, keyring_expected=False) is None
    assert secrets.in_session_only("w")
