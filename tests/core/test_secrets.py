"""Passwords: a keyring when usable, memory otherwise; never the user's keyring in tests."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import chainer, fail, null

from pgwatch_gui.core.profiles import secrets
from pgwatch_gui.core.profiles.secrets import SecretStore, backend_is_usable
from tests.keyring_backend import TempFileKeyring


def test_the_suite_uses_the_temporary_keyring(test_keyring, _isolated_config):
    assert isinstance(keyring.get_keyring(), TempFileKeyring)
    assert str(test_keyring.path).startswith(str(_isolated_config))
    store = secrets.default_store()
    assert store.persistent and "TempFileKeyring" in store.describe()


def test_keyring_round_trip(tmp_path):
    kr = TempFileKeyring(tmp_path / "k.json")
    s = SecretStore(kr)
    assert s.set("prod", "pw") is True
    assert s.get("prod") == "pw" and kr.entries() == {"prod": "pw"}
    s.rename("prod", "production")
    assert kr.entries() == {"production": "pw"}
    s.delete("production")
    s.delete("production")  # twice is fine
    assert s.get("production") is None and kr.entries() == {}


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_no_usable_keyring_keeps_passwords_in_memory(backend):
    s = SecretStore(backend)
    assert not s.persistent
    assert "no usable keyring" in s.problem
    assert s.set("prod", "pw") is False
    assert s.get("prod") == "pw" and s.in_session_only("prod")
    s.rename("prod", "p2")
    assert s.get("p2") == "pw" and s.get("prod") is None
    assert SecretStore(backend).get("p2") is None  # another session: gone


def test_usability_rules(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    assert not backend_is_usable(fail.Keyring())
    assert backend_is_usable(TempFileKeyring(tmp_path / "k"))

    class LowPriority(TempFileKeyring):
        priority = 0.5  # like keyrings.alt's plain-text file

    low = LowPriority(tmp_path / "k")
    monkeypatch.setattr(secrets, "_explicitly_chosen", lambda: False)
    assert not backend_is_usable(low)
    assert backend_is_usable(low, explicit=True)
    # a chainer with nothing worth chaining is no keyring at all
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert not backend_is_usable(chainer.ChainerBackend())


def test_a_keyring_that_breaks_at_run_time_falls_back(tmp_path):
    class Locked(TempFileKeyring):
        def set_password(self, service, username, password):
            raise keyring.errors.PasswordSetError("locked")

    s = SecretStore(Locked(tmp_path / "k"))
    assert s.set("prod", "pw") is False
    assert s.get("prod") == "pw" and "failed" in s.problem and "pw" not in s.problem


def test_keyring_plugin_noise_stays_off_stderr():
    """A bundle lacks other platforms' backends; keyring's tracebacks must not reach users."""
    import subprocess
    import sys

    from tests.conftest import cli_env

    code = ("import logging, pgwatch_gui.core.profiles.secrets\n"
            "try:\n    import no_such_backend_module\n"
            "except ImportError:\n"
            "    logging.getLogger('keyring.backend').exception('Error initializing plugin')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=cli_env(), timeout=60)
    assert r.returncode == 0 and r.stderr == ""
