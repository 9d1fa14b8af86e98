"""Profile: validation, libpq strings, file form."""

from __future__ import annotations

import pytest
from psycopg import conninfo as _ci

from pgwatch_gui.core.profiles.model import (
    PALETTE,
    Profile,
    ProfileError,
    next_color,
    unique_name,
)


def test_conninfo_from_fields_and_password():
    p = Profile("prod", host="db.example.com", port=6432, dbname="app", user="bob",
                sslmode="verify-full", sslrootcert="/etc/ca.pem", channel_binding="require",
                connect_timeout=5)
    params = _ci.conninfo_to_dict(p.conninfo("s3cret"))
    assert params == {
        "host": "db.example.com", "port": "6432", "dbname": "app", "user": "bob",
        "sslmode": "verify-full", "sslrootcert": "/etc/ca.pem", "channel_binding": "require",
        "connect_timeout": "5", "application_name": "pgwatch-gui", "password": "s3cret",
    }
    assert "password" not in _ci.conninfo_to_dict(p.conninfo())
    assert p.target() == "bob@db.example.com:6432/app"


def test_fields_override_uri_and_service_stays_for_libpq():
    p = Profile("x", uri="postgresql://h1/db1?target_session_attrs=read-write", dbname="db2")
    params = _ci.conninfo_to_dict(p.conninfo())
    assert params["dbname"] == "db2" and params["host"] == "h1"
    assert params["target_session_attrs"] == "read-write"
    s = Profile("svc", service="reporting")
    assert _ci.conninfo_to_dict(s.conninfo())["service"] == "reporting"
    assert s.target() == "service=reporting"


def test_empty_application_name_falls_back_to_ours():
    p = Profile("x", host="h", application_name="")
    assert _ci.conninfo_to_dict(p.conninfo())["application_name"] == "pgwatch-gui"


@pytest.mark.parametrize("changes, message", [
    ({"name": ""}, "needs a name"),
    ({"name": " x"}, "spaces"),
    ({"name": "a\nb"}, "control"),
    ({"port": 70000}, "port"),
    ({"sslmode": "sometimes"}, "sslmode"),
    ({"channel_binding": "maybe"}, "channel_binding"),
    ({"color": "red"}, "colour"),
    ({"channels": [""]}, "channel"),
    ({"uri": "postgresql://u:pw@h/db"}, "password"),
    ({"uri": "sslpassword=keypass"}, "sslpassword"),
    ({"uri": "host='unterminated"}, "invalid connection string"),
])
def test_validate_refuses(changes, message):
    p = Profile("ok", host="h").copy(**changes)
    with pytest.raises(ProfileError, match=message):
        p.validate()


def test_dict_round_trip_keeps_unknown_keys_and_never_a_password():
    data = {"name": "n", "host": "h", "port": 5, "channels": ["a", "B c"], "auto_connect": True,
            "color": "#123456", "future_field": {"x": 1}, "password": "leak"}
    p = Profile.from_dict(data)
    assert p.port == 5 and p.channels == ["a", "B c"] and p.auto_connect
    out = p.to_dict()
    assert out["future_field"] == {"x": 1}
    assert "password" not in out
    assert Profile.from_dict(out) == p


@pytest.mark.parametrize("data", [
    [], {"host": "h"}, {"name": 3}, {"name": "n", "port": "abc"},
    {"name": "n", "channels": "a"}, {"name": "n", "auto_connect": "yes"},
])
def test_from_dict_rejects_wrong_shapes(data):
    with pytest.raises(ProfileError):
        Profile.from_dict(data)


def test_palette_and_unique_names():
    assert next_color([]) == PALETTE[0]
    assert next_color([PALETTE[0].upper()]) == PALETTE[1]
    assert unique_name("a", ["a", "a (2)"]) == "a (3)"
    assert unique_name("b", ["a"]) == "b"
