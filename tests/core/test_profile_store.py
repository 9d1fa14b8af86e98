"""The profiles file: round trip, atomic write, recovery from bad files, no passwords."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from pgwatch_gui.core.profiles import store as profile_store
from pgwatch_gui.core.profiles.model import Profile, ProfileError, UnknownProfile
from pgwatch_gui.core.profiles.secrets import SecretStore
from pgwatch_gui.core.profiles.store import BASE_FORMAT, FORMAT_VERSION, ProfileStore, config_dir
from tests.keyring_backend import TempFileKeyring

PASSWORD = "p@ss:w/rd%-Zq81"


@pytest.fixture
def kr(tmp_path):
    return TempFileKeyring(tmp_path / "kr.json")


@pytest.fixture
def store(tmp_path, kr):
    return ProfileStore(tmp_path / "cfg" / "profiles.json", secrets=SecretStore(kr))


def test_config_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "here"))
    assert config_dir() == tmp_path / "here"
    assert ProfileStore().path == tmp_path / "here" / "profiles.json"
    monkeypatch.delenv("PGWATCH_CONFIG_DIR")
    assert "pgwatch-gui" in str(config_dir())


def test_round_trip(store, tmp_path, kr):
    a = store.add(Profile("a", host="h", port=5433, dbname="d", user="u", sslmode="require",
                          channels=["orders", "Order Events"], auto_connect=True))
    store.add(Profile("b", service="svc"), password=PASSWORD)
    assert a.color  # a colour was chosen
    again = ProfileStore.open(store.path, secrets=store.secrets)
    assert again.problems == []
    assert again.profiles == store.profiles
    assert again.names() == ["a", "b"]
    assert [p.name for p in again.auto_connect()] == ["a"]
    assert again.get("a").color != again.get("b").color
    doc = json.loads(store.path.read_text())
    assert doc["format"] == BASE_FORMAT  # nothing in it needs format 2 (SSH)
    assert kr.entries() == {"b": PASSWORD}
    assert f"password={PASSWORD}" not in again.conninfo("a")
    assert "password=" in again.conninfo("b")


def test_no_password_anywhere_in_config_dir(store, kr):
    from pgwatch_gui.core.profiles.imports import profile_from_dsn

    profile, password = profile_from_dsn("prod", f"postgresql://bob:{PASSWORD}@db/app")
    store.add(profile, password=password)
    store.duplicate("prod")
    for path in store.path.parent.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PASSWORD.encode() not in data, path
            assert b"ss:w/rd" not in data, path
    assert kr.entries() == {"prod": PASSWORD, "prod (copy)": PASSWORD}


def test_file_is_private(store):
    store.add(Profile("a", host="h"))
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_atomic_write_keeps_old_file_when_writing_fails(store, monkeypatch):
    store.add(Profile("a", host="h"))
    before = store.path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(profile_store.os, "fsync", broken_fsync)
    with pytest.raises(profile_store.ProfileStoreError, match="No space left"):
        store.add(Profile("b", host="h"))
    assert store.path.read_bytes() == before
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name != "profiles.json"]
    assert leftovers == []  # the temporary file is gone too


def test_atomic_write_goes_through_rename(store, monkeypatch):
    store.add(Profile("a", host="h"))
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.fspath(src), os.fspath(dst)))
        # the new content is complete in the temporary file before the rename
        assert json.loads(Path(src).read_text("utf-8"))["profiles"][-1]["name"] == "b"
        return real_replace(src, dst)

    monkeypatch.setattr(profile_store.os, "replace", spy)
    store.add(Profile("b", host="h"))
    assert len(seen) == 1 and seen[0][1] == str(store.path)
    assert os.path.dirname(seen[0][0]) == str(store.path.parent)


def _aside(store):
    return sorted(p for p in store.path.parent.iterdir() if ".bad-" in p.name)


def test_corrupt_file_is_moved_aside_and_readable_profiles_kept(store):
    store.add(Profile("first", host="h1"))
    store.add(Profile("second", host="h2"))
    good = store.path.read_text()
    broken = good[: good.index('"second"') + 20]  # cut off in the middle of a profile
    store.path.write_text(broken)
    again = ProfileStore.open(store.path, secrets=store.secrets)
    assert again.names() == ["first"]
    text = " ".join(again.problems)
    assert "not valid JSON" in text and "kept 1 profile" in text
    assert "moved aside to profiles.json.bad-" in text
    (aside,) = _aside(again)
    assert aside.read_text() == broken  # the bad file is still there, untouched
    assert again.moved_aside == aside
    # and what could be read was written back: the next start is clean
    assert ProfileStore.open(store.path, secrets=store.secrets).problems == []
    assert ProfileStore.open(store.path, secrets=store.secrets).names() == ["first"]


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"", b"[1, 2", b'"a string"',
                                     b'{"format": 1, "profiles": {"a": 1}}'])
def test_garbage_never_stops_the_app(store, content):
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)
    again = ProfileStore.open(store.path, secrets=store.secrets)
    assert again.profiles == []
    assert again.problems
    (aside,) = _aside(again)
    assert aside.read_bytes() == content
    again.add(Profile("new", host="h"))  # and it works afterwards
    assert ProfileStore.open(store.path).names() == ["new"]


def test_bad_entries_are_skipped_with_a_reason(store):
    store.path.parent.mkdir(parents=True)
    doc = {"format": 1, "profiles": [
        {"name": "ok", "host": "h"}, {"name": "ok", "host": "dup"}, {"host": "no name"},
        {"name": "badport", "port": "x"}, "not an object", {"name": "ok2", "service": "s"},
    ]}
    store.path.write_text(json.dumps(doc))
    again = ProfileStore.open(store.path, secrets=store.secrets)
    assert again.names() == ["ok", "ok2"]
    text = "\n".join(again.problems)
    assert "#2 skipped: a second profile named 'ok'" in text
    assert "#3 skipped" in text and "#4 skipped" in text and "#5 skipped" in text
    assert len(_aside(again)) == 1


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_unreadable_file(store):  # pragma: no cover - not as root
    store.add(Profile("a", host="h"))
    store.path.chmod(0)
    again = ProfileStore.open(store.path, secrets=store.secrets)
    assert again.profiles == [] and "cannot read" in again.problems[0]


def test_unreadable_path_is_a_directory(store):
    store.path.mkdir(parents=True)
    again = ProfileStore.open(store.path, secrets=store.secrets)
    assert again.profiles == [] and "cannot read" in again.problems[0]
    assert len(_aside(again)) == 1
    again.add(Profile("a", host="h"))
    assert ProfileStore.open(store.path).names() == ["a"]


def test_newer_format_is_read_and_backed_up_before_overwriting(store):
    store.path.parent.mkdir(parents=True)
    newer = {"format": FORMAT_VERSION + 1, "profiles": [{"name": "a", "host": "h", "x": 1}]}
    store.path.write_text(json.dumps(newer))
    again = ProfileStore.open(store.path, secrets=store.secrets)
    assert again.names() == ["a"] and "newer" in again.problems[0]
    assert _aside(again) == []  # nothing moved until we write
    again.add(Profile("b", host="h"))
    (aside,) = _aside(again)
    assert json.loads(aside.read_text()) == newer
    assert json.loads(store.path.read_text())["profiles"][0]["x"] == 1  # unknown key kept


def test_add_update_rename_remove_duplicate(store, kr):
    store.add(Profile("a", host="h"), password="pw-a")
    with pytest.raises(ProfileError, match="exists already"):
        store.add(Profile("a", host="other"))
    store.add(Profile("a", host="other"), replace=True)
    assert store.get("a").host == "other"
    store.update("a", store.get("a").copy(name="renamed", dbname="d"))
    assert store.names() == ["renamed"]
    assert kr.entries() == {"renamed": "pw-a"}  # the password followed the rename
    dup = store.duplicate("renamed")
    assert dup.name == "renamed (copy)" and dup.color != store.get("renamed").color
    assert store.duplicate("renamed").name == "renamed (copy) (2)"
    store.remove("renamed")
    assert "renamed" not in kr.entries()
    with pytest.raises(UnknownProfile):
        store.remove("renamed")
    with pytest.raises(ProfileError):
        store.update("renamed (copy)", Profile("renamed (copy) (2)", host="h"))
    assert ProfileStore.open(store.path).names() == ["renamed (copy)", "renamed (copy) (2)"]
