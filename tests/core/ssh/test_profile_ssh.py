"""SSH settings of a profile: parsing, checks, the file (format 2) and the keyring."""

from __future__ import annotations

import json

import pytest

from pgwatch_gui.core.profiles.model import Profile, ProfileError
from pgwatch_gui.core.profiles.secrets import SecretStore
from pgwatch_gui.core.profiles.store import BASE_FORMAT, FORMAT_VERSION, ProfileStore
from pgwatch_gui.core.ssh.settings import (
    AUTH_AGENT,
    AUTH_KEY,
    AUTH_PASSWORD,
    SshSettingsError,
    parse_target,
)
from tests.keyring_backend import TempFileKeyring

SECRET = "pass phrase: @/%"


@pytest.mark.parametrize("text, expected", [
    ("deploy@bastion.example.com", ("deploy", "bastion.example.com", 22)),
    ("deploy@bastion:2222", ("deploy", "bastion", 2222)),
    ("bastion", ("", "bastion", 22)),
    ("me@[2001:db8::1]:22022", ("me", "2001:db8::1", 22022)),
])
def test_parse_target(text, expected):
    assert parse_target(text) == expected


@pytest.mark.parametrize("bad", ["", "a b@c", "me@host:99999", "me@host:port", "@host"])
def test_parse_target_refuses(bad):
    with pytest.raises(SshSettingsError):
        parse_target(bad)


def test_settings_from_profile():
    assert Profile("p").ssh_settings() is None
    p = Profile("p", host="db", ssh_host="bastion", ssh_user="me", ssh_key="~/.ssh/id_ed25519")
    s = p.ssh_settings()
    assert (s.host, s.port, s.user, s.auth) == ("bastion", 22, "me", AUTH_KEY)
    assert Profile("p", ssh_host="b").ssh_settings().auth == AUTH_AGENT
    assert p.target().endswith("via ssh me@bastion")


@pytest.mark.parametrize("kw, words", [
    ({"ssh_user": "me"}, "without an SSH host"),
    ({"ssh_host": "b", "ssh_port": 0}, "SSH port"),
    ({"ssh_host": "b", "ssh_auth": "telepathy"}, "SSH login"),
    ({"ssh_host": "b", "ssh_auth": AUTH_KEY}, "key file"),
])
def test_bad_ssh_settings_are_refused(kw, words):
    with pytest.raises(ProfileError, match=words):
        Profile("p", host="db", **kw).validate()


def test_store_round_trip_keeps_the_secret_in_the_keyring_only(tmp_path):
    kr = TempFileKeyring(tmp_path / "kr.json")
    store = ProfileStore(tmp_path / "profiles.json", secrets=SecretStore(kr))
    store.add(Profile("plain", host="db"))
    assert json.loads(store.path.read_text())["format"] == BASE_FORMAT
    prof = Profile("far", host="db.internal", port=5433, ssh_host="bastion", ssh_port=2222,
                   ssh_user="me", ssh_auth=AUTH_PASSWORD)
    store.add(prof, password="db secret", ssh_secret=SECRET)
    text = store.path.read_text()
    assert json.loads(text)["format"] == FORMAT_VERSION == 2
    assert SECRET not in text and "db secret" not in text
    again = ProfileStore.open(store.path, secrets=SecretStore(kr))
    assert again.problems == []
    assert again.get("far") == prof
    assert again.ssh_secrets.get("far") == SECRET
    assert again.secrets.get("far") == "db secret"

    again.update("far", prof.copy(name="farther"))
    assert again.ssh_secrets.get("farther") == SECRET and again.ssh_secrets.get("far") is None
    copy = again.duplicate("farther")
    assert again.ssh_secrets.get(copy.name) == SECRET
    again.remove("farther")
    again.remove(copy.name)
    assert SECRET not in json.dumps(kr.entries())
    assert json.loads(store.path.read_text())["format"] == BASE_FORMAT
