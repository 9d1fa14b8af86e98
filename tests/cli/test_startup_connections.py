"""What the window connects to on start: --dsn, --profile, -c alone, or auto-connect profiles."""

from __future__ import annotations

import pytest
from psycopg import conninfo as _ci

from pgwatch_gui.cli import build_parser
from pgwatch_gui.cli.common import CliError, resolve_startup_connections
from pgwatch_gui.core.profiles.imports import profile_from_dsn
from pgwatch_gui.core.profiles.store import ProfileStore


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path))
    s = ProfileStore.open()
    for name, dsn, chans, auto in (("a", "postgresql://u:pw-a@ha/da", ["x"], True),
                                   ("b", "host=hb dbname=db", ["y", "z"], False),
                                   ("c", "host=hc", [], True)):
        profile, password = profile_from_dsn(name, dsn)
        profile.channels, profile.auto_connect = chans, auto
        s.add(profile, password=password)
    return s


def startup(*argv):
    return resolve_startup_connections(build_parser().parse_args(list(argv)))


def test_no_arguments_opens_the_auto_connect_profiles(store):
    conns = startup()
    assert [(c.name, c.channels) for c in conns] == [("a", ["x"]), ("c", [])]
    assert _ci.conninfo_to_dict(conns[0].conninfo)["password"] == "pw-a"


def test_profile_argument(store):
    (c,) = startup("--profile", "b")
    assert (c.name, c.channels) == ("b", ["y", "z"])
    assert _ci.conninfo_to_dict(c.conninfo)["host"] == "hb"
    (c,) = startup("--profile", "b", "-c", "other")
    assert c.channels == ["other"]


def test_dsn_argument_wins_over_auto_connect(store):
    (c,) = startup("--dsn", "postgresql://u:p@ss@h/db", "-c", "q")
    assert c.channels == ["q"] and _ci.conninfo_to_dict(c.conninfo)["password"] == "p@ss"
    assert c.name == "u@h/db"


def test_unknown_profile(store):
    with pytest.raises(CliError, match="no profile named 'nope'"):
        startup("--profile", "nope")


def test_window_accepts_profile_and_rejects_both(store, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--profile", "a", "--dsn", "h"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
