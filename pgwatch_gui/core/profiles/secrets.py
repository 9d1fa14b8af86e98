"""Profile passwords: the OS keyring when there is a usable one, else memory only.

A password is stored under service ``pgwatch-gui`` with the profile's name as the
user name. Where no usable keyring exists (a headless Linux box without a Secret
Service, or only the ``fail``/``null`` backends), passwords are kept in memory for
this process and the caller asks for them once per session.

A profile without a password is fine: libpq then finds one itself in ``.pgpass``
or ``PGPASSWORD``. Nothing here writes a password to a file or a message.
"""

from __future__ import annotations

import logging
import os
import threading

SERVICE = "pgwatch-gui"

# keyring logs a traceback for every backend plugin it cannot load (a bundle ships
# only its own platform's); unless the application configures logging, say nothing.
logging.getLogger("keyring").addHandler(logging.NullHandler())


class SecretsError(Exception):
    """The keyring refused an operation; the message never holds the password."""


def _load_keyring():
    import keyring

    return keyring.get_keyring()


def _explicitly_chosen() -> bool:
    """True when the user picked a backend (PYTHON_KEYRING_BACKEND or keyringrc.cfg)."""
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    try:
        from keyring.core import _config_path

        return _config_path().exists()
    except Exception:  # pragma: no cover - keyring internals moved
        return False


def backend_is_usable(backend: object, *, explicit: bool | None = None) -> bool:
    """Whether a keyring backend really keeps secrets somewhere lasting and private.

    ``fail`` and ``null`` keep nothing; a chainer is usable if one of its backends is.
    A backend keyring itself calls "not recommended" (priority below 1, e.g. the
    plain-text file of keyrings.alt) counts only if the user chose it explicitly.
    """
    from keyring.backends import chainer, fail, null

    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return any(backend_is_usable(b, explicit=False) for b in backend.backends)
    if explicit is None:
        explicit = _explicitly_chosen()
    try:
        priority = float(type(backend).priority)  # type: ignore[attr-defined]
    except Exception:
        return False
    return explicit or priority >= 1


def backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


_WORDS = (
    ("keyring.backends.fail", "no usable keyring on this system"),
    ("keyring.backends.null", "no usable keyring on this system (keyring is switched off)"),
    ("keyring.backends.SecretService", "the Secret Service keyring (GNOME Keyring, KeePassXC)"),
    ("keyring.backends.libsecret", "the Secret Service keyring (libsecret)"),
    ("keyring.backends.kwallet", "KWallet"),
    ("keyring.backends.macOS", "the macOS Keychain"),
    ("keyring.backends.Windows", "the Windows Credential Manager"),
    ("keyring.backends.chainer", "the system keyring"),
    ("keyrings.alt.file", "a password file of keyrings.alt"),
)


def backend_words(backend: object) -> str:
    """The backend in words for a user: keyring.backends.fail.Keyring -> "no usable
    keyring on this system", SecretService -> "the Secret Service keyring ..."."""
    name = backend_name(backend)
    for prefix, words in _WORDS:
        if name.startswith(prefix):
            return words
    return f"the keyring {type(backend).__qualname__}"


class SecretStore:
    """Get, set and delete profile passwords; falls back to memory without a keyring."""

    def __init__(self, backend: object | None = None, *, service: str = SERVICE) -> None:
        self.service = service
        self._given = backend
        self._backend: object | None = None
        self._resolved = False
        self._memory: dict[str, str] = {}
        self._cache: dict[str, str | None] = {}  # what the keyring holds, once read
        self._lock = threading.Lock()
        self._companions: dict[str, SecretStore] = {}
        self.problem = ""  # why the keyring is not used, for a status line

    # ---- which backend -------------------------------------------------------

    @property
    def backend(self) -> object | None:
        """The usable keyring backend, or None when passwords stay in memory."""
        if not self._resolved:
            self._resolved = True
            candidate = self._given
            try:
                if candidate is None:
                    candidate = _load_keyring()
            except Exception as exc:  # a broken keyring installation must not stop the app
                self.problem = f"the keyring cannot be used here ({_short(exc)})"
                candidate = None
            explicit = True if self._given is not None else None
            if candidate is not None and not backend_is_usable(candidate, explicit=explicit):
                words = backend_words(candidate)
                self.problem = (words if words.startswith("no usable keyring")
                                else f"no usable keyring ({words} keeps nothing lasting)")
                candidate = None
            self._backend = candidate
        return self._backend

    @property
    def ready(self) -> bool:
        """True when `persistent` answers without loading a keyring (no waiting)."""
        return self._resolved or self._given is not None

    def warm(self, profiles: list[str]) -> bool:
        """Load the keyring and read these profiles' passwords into the cache: call it in
        a worker thread, after which get/has answer without a keyring call. Returns
        `persistent`."""
        for name in profiles:
            self.get(name)
        return self.persistent

    @property
    def persistent(self) -> bool:
        """True when passwords survive the process (a usable keyring)."""
        return self.backend is not None

    def describe(self) -> str:
        backend = self.backend
        return backend_name(backend) if backend is not None else "memory (this session only)"

    def companion(self, kind: str) -> SecretStore:
        """The store for another secret of the same profiles (kind "ssh": the SSH key's
        passphrase or SSH password), under its own keyring service "pgwatch-gui-ssh"."""
        with self._lock:
            store = self._companions.get(kind)
            if store is None:
                store = SecretStore(self._given, service=f"{self.service}-{kind}")
                self._companions[kind] = store
            return store

    # ---- passwords -------------------------------------------------------------

    def get(self, profile: str) -> str | None:
        with self._lock:
            if profile in self._memory:
                return self._memory[profile]
            if profile in self._cache:
                return self._cache[profile]
        backend = self.backend
        if backend is None:
            return None
        try:
            value = backend.get_password(self.service, profile)  # type: ignore[attr-defined]
        except Exception as exc:
            self._give_up(exc)
            return None
        with self._lock:
            self._cache[profile] = value
        return value

    def set(self, profile: str, password: str, *, session_only: bool = False) -> bool:
        """Store a password; returns True if it went to the keyring, False if memory only."""
        if password is None or password == "":
            self.delete(profile)
            return self.persistent
        backend = None if session_only else self.backend
        if backend is not None:
            try:
                backend.set_password(self.service, profile, password)  # type: ignore[attr-defined]
            except Exception as exc:
                self._give_up(exc)
            else:
                with self._lock:
                    self._memory.pop(profile, None)
                    self._cache[profile] = password
                return True
        with self._lock:
            self._memory[profile] = password
        return False

    def delete(self, profile: str) -> None:
        with self._lock:
            self._memory.pop(profile, None)
        backend = self.backend
        if backend is None:
            return
        try:
            if backend.get_password(self.service, profile) is not None:  # type: ignore[attr-defined]
                backend.delete_password(self.service, profile)  # type: ignore[attr-defined]
        except Exception as exc:
            self._give_up(exc)
        else:
            with self._lock:
                self._cache[profile] = None

    def rename(self, old: str, new: str) -> None:
        if old == new:
            return
        password = self.get(old)
        if password is None:
            return
        session_only = old in self._memory
        self.set(new, password, session_only=session_only)
        self.delete(old)

    def has(self, profile: str) -> bool:
        return self.get(profile) is not None

    def in_session_only(self, profile: str) -> bool:
        with self._lock:
            return profile in self._memory

    def _give_up(self, exc: Exception) -> None:
        """A keyring that fails at run time (locked, D-Bus gone): keep going in memory."""
        self.problem = (f"{backend_words(self._backend)} failed ({_short(exc)}); "
                        "the keyring stopped working")
        self._backend = None
        with self._lock:
            self._cache.clear()


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text[:120] or "no reason given"


_default: SecretStore | None = None


def default_store() -> SecretStore:
    """The process-wide secret store (one in-memory fallback shared by everything)."""
    global _default
    if _default is None:
        _default = SecretStore()
    return _default


def set_default_store(store: SecretStore | None) -> None:
    """Replace the process-wide store (tests; None resets to a fresh lazy one)."""
    global _default
    _default = store
