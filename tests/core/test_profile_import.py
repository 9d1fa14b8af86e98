"""Profiles from URIs (awkward passwords), PG* variables and service files."""

from __future__ import annotations

import pytest
from psycopg import conninfo as _ci

from pgwatch_gui.core.pg.connection import ConnectionConfigError
from pgwatch_gui.core.pg.dsn import parse_dsn
from pgwatch_gui.core.profiles.imports import (
    profile_from_dsn,
    profile_from_env,
    profiles_from_services,
    read_service_file,
)
from pgwatch_gui.core.profiles.model import ProfileError

AWKWARD = "p@ss:w/rd%"


@pytest.mark.parametrize("uri", [
    "postgresql://bob:p%40ss%3Aw%2Frd%25@db.example.com:5432/app",  # percent-encoded
    "postgresql://bob:p@ss:w/rd%@db.example.com:5432/app",  # pasted raw
    "postgres://bob:p@ss:w/rd%@db.example.com:5432/app",
    "host=db.example.com port=5432 dbname=app user=bob password='p@ss:w/rd%'",
])
def test_awkward_password_is_split_off(uri):
    profile, password = profile_from_dsn("prod", uri)
    assert password == AWKWARD
    assert (profile.host, profile.port, profile.dbname, profile.user) == (
        "db.example.com", 5432, "app", "bob")
    assert profile.uri == ""
    assert "password" not in profile.to_dict()
    assert AWKWARD not in repr(profile) and "ss:w" not in str(profile.to_dict())
    profile.validate()
    assert _ci.conninfo_to_dict(profile.conninfo(password))["password"] == AWKWARD


@pytest.mark.parametrize("password", ["a%41b", "ünï©ode pass", "with space", "q?x", "x'y\\z"])
def test_other_passwords_survive_encoding(password):
    from urllib.parse import quote

    _, got = profile_from_dsn("x", f"postgresql://u:{quote(password, safe='')}@h/db")
    assert got == password


def test_raw_user_with_at_sign_as_on_azure():
    profile, password = profile_from_dsn("az", "postgresql://admin@srv:pw@srv.example.com/db")
    assert (profile.user, password, profile.host) == ("admin@srv", "pw", "srv.example.com")


def test_query_parameters_and_other_keywords():
    profile, password = profile_from_dsn(
        "x", "postgresql://h1:5432,h2:5433/app?sslmode=verify-full&sslrootcert=/ca.pem"
        "&target_session_attrs=read-write&connect_timeout=7&password=qpw&channel_binding=require")
    assert password == "qpw"
    assert profile.sslmode == "verify-full" and profile.sslrootcert == "/ca.pem"
    assert profile.channel_binding == "require" and profile.connect_timeout == 7
    assert profile.host == "h1,h2" and profile.port is None
    rest = _ci.conninfo_to_dict(profile.uri)
    assert rest == {"port": "5432,5433", "target_session_attrs": "read-write"}
    profile.validate()
    assert _ci.conninfo_to_dict(profile.conninfo())["port"] == "5432,5433"


def test_parse_errors_never_quote_the_password():
    with pytest.raises(ConnectionConfigError) as err:
        parse_dsn("postgresql://u:Sup3rS3cret@h/db?nonsense_param=1")
    assert "Sup3rS3cret" not in str(err.value) and "nonsense_param" in str(err.value)
    with pytest.raises(ConnectionConfigError) as err:
        parse_dsn("host=h password='Sup3rS3cret")
    assert "Sup3rS3cret" not in str(err.value)


def test_other_secrets_are_refused():
    with pytest.raises(ProfileError, match="sslpassword"):
        profile_from_dsn("x", "host=h sslpassword=keypass")


def test_from_env():
    env = {"PGHOST": "envhost", "PGPORT": "6000", "PGDATABASE": "envdb", "PGUSER": "envuser",
           "PGSSLMODE": "require", "PGPASSWORD": AWKWARD, "PGAPPNAME": "mine", "HOME": "/x"}
    profile, password = profile_from_env("env", env)
    assert (profile.host, profile.port, profile.dbname, profile.user) == (
        "envhost", 6000, "envdb", "envuser")
    assert profile.sslmode == "require" and profile.application_name == "mine"
    assert password == AWKWARD and AWKWARD not in str(profile.to_dict())


def test_service_file(tmp_path):
    conf = tmp_path / "pg_service.conf"
    conf.write_text(
        "# my services\n[reporting]\nhost=rep.example.com\ndbname=rep\npassword=nope\n\n"
        "[Local Dev]\nhost=/var/run/postgresql\nport = 5433\n"
    )
    services = read_service_file(conf)
    assert services == {"reporting": {"host": "rep.example.com", "dbname": "rep"},
                        "Local Dev": {"host": "/var/run/postgresql", "port": "5433"}}
    profiles = profiles_from_services({"PGSERVICEFILE": str(conf)})
    assert [(p.name, p.service) for p in profiles] == [
        ("reporting", "reporting"), ("Local Dev", "Local Dev")]
    assert _ci.conninfo_to_dict(profiles[0].conninfo())["service"] == "reporting"
    assert profiles_from_services({"PGSERVICEFILE": str(tmp_path / "missing")}) == []


def test_broken_service_file(tmp_path):
    conf = tmp_path / "pg_service.conf"
    conf.write_text("host=before any section\n")
    with pytest.raises(ProfileError, match="cannot read service file"):
        read_service_file(conf)


def test_make_conninfo_reads_raw_uri_passwords_and_never_echoes_them():
    from pgwatch_gui.core.pg.connection import make_conninfo, one_line

    params = _ci.conninfo_to_dict(make_conninfo(f"postgresql://u:{AWKWARD}@h/db"))
    assert params["password"] == AWKWARD and params["host"] == "h"
    assert _ci.conninfo_to_dict(make_conninfo("postgresql://u:Secr%zzet@h/db"))[
        "password"] == "Secr%zzet"
    for bad in ("postgresql://u:Secr%zzet@h/db?nonsense=1", "host=h password='Secr%zzet"):
        with pytest.raises(ConnectionConfigError) as err:
            make_conninfo(bad)
        assert "Secr" not in str(err.value)
    assert AWKWARD not in one_line(f"failed for postgresql://u:{AWKWARD}@h/db here")
    assert "ss:w" not in one_line(f"failed for postgresql://u:{AWKWARD}@h/db here")
