"""The profiles file: one JSON document, written atomically, that a bad copy never breaks.

Where: ``profiles.json`` in the platform's user config directory (platformdirs), or
in ``$PGWATCH_CONFIG_DIR`` when that is set. Shape::

    {"format": 1, "profiles": [{"name": "...", "host": "...", ...}, ...]}

Format 2 is written when a profile has an SSH tunnel: a version that knows only
format 1 would connect such a profile directly, so it is told the file is newer.

Writes go to a temporary file in the same folder, are flushed to disk, and replace
the old file in one rename: a crash leaves the old file or the new one, never half.

A file that cannot be read, is not JSON, or holds entries that make no sense never
stops the program: the file is moved aside with a timestamp suffix (so nothing is
lost), the profiles that could be read are kept and written back, and `problems`
says in plain words what happened. Passwords are never written here: they belong
to core.secrets, which this store keeps in step on rename and remove.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from pgwatch_gui.core.host.private_files import private_dir, private_file, tighten_tree
from pgwatch_gui.core.profiles.model import (
    Profile,
    ProfileError,
    UnknownProfile,
    next_color,
    unique_name,
)
from pgwatch_gui.core.profiles.secrets import SecretStore, default_store

FORMAT_VERSION = 2  # the newest format this version reads and writes
BASE_FORMAT = 1  # written when no profile needs anything newer
FILE_NAME = "profiles.json"
APP_DIR_NAME = "pgwatch-gui"


class ProfileStoreError(OSError):
    """The profiles file could not be written; the message says where and why."""


def config_dir() -> Path:
    """$PGWATCH_CONFIG_DIR, else the platform's user config folder for pgwatch-gui."""
    override = os.environ.get("PGWATCH_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False, roaming=True))


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a flushed temporary file and one os.replace; the folder
    is made 0700 and the file is 0600 (mkstemp's mode, kept by the rename)."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sys.platform != "win32":
        with contextlib.suppress(OSError):
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def _salvage(text: str) -> list[object]:
    """The profile objects that parse, from the start of a damaged file's list."""
    start = text.find('"profiles"')
    bracket = text.find("[", start if start >= 0 else 0)
    if bracket < 0:
        return []
    decoder = json.JSONDecoder()
    items: list[object] = []
    pos = bracket + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            return items
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return items
        items.append(obj)


class ProfileStore:
    def __init__(self, path: Path | str | None = None, *,
                 secrets: SecretStore | None = None) -> None:
        self.path = Path(path) if path is not None else config_dir() / FILE_NAME
        self._secrets = secrets
        self.profiles: list[Profile] = []
        self.problems: list[str] = []
        self.moved_aside: Path | None = None
        self._newer_format: int | None = None

    @property
    def secrets(self) -> SecretStore:
        return self._secrets if self._secrets is not None else default_store()

    @property
    def ssh_secrets(self) -> SecretStore:
        """SSH key passphrases and SSH passwords, by profile name."""
        return self.secrets.companion("ssh")

    # ---- reading ----------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str | None = None, *,
             secrets: SecretStore | None = None) -> ProfileStore:
        store = cls(path, secrets=secrets)
        store.load()
        return store

    def load(self) -> list[str]:
        """Read the file; returns (and keeps in `problems`) what was wrong with it."""
        self.profiles, self.problems, self.moved_aside = [], [], None
        self._newer_format = None
        # Ours alone, as found on start (an older version wrote them 0644 in 0755):
        # the folder (the window's settings file lives there too on Linux) and its files.
        tighten_tree(self.path.parent)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self.problems
        except OSError as exc:
            self._problem(f"cannot read {self.path}: {exc.strerror or exc}")
            self._move_aside()
            return self.problems
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            self._problem(f"{self.path} is not UTF-8 text")
            self._recover(_salvage(text))
            return self.problems
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            self._problem(f"{self.path} is not valid JSON ({exc.msg}, line {exc.lineno})")
            self._recover(_salvage(text))
            return self.problems
        if isinstance(doc, list):  # a bare list of profiles: accept it, rewrite it
            items, shape_ok = doc, False
        elif isinstance(doc, dict) and isinstance(doc.get("profiles", []), list):
            items, shape_ok = doc.get("profiles", []), True
            fmt = doc.get("format", FORMAT_VERSION)
            if isinstance(fmt, int) and fmt > FORMAT_VERSION:
                self._newer_format = fmt
                self._problem(
                    f"{self.path} was written by a newer pgwatch-gui (format {fmt}); "
                    "it is kept as a backup when profiles are saved"
                )
        else:
            self._problem(f"{self.path} does not hold a list of profiles")
            self._recover([])
            return self.problems
        lost = self._take(items)
        if lost or not shape_ok:
            self._recover_done()
        return self.problems

    def _take(self, items: list[object]) -> int:
        """Keep the valid profiles among `items`; returns how many were dropped."""
        lost = 0
        for i, item in enumerate(items, 1):
            try:
                profile = Profile.from_dict(item).validate()
                if self.get(profile.name) is not None:
                    raise ProfileError(f"a second profile named {profile.name!r}")
            except ProfileError as exc:
                lost += 1
                self._problem(f"profile #{i} skipped: {exc}")
                continue
            self.profiles.append(profile)
        return lost

    def _recover(self, items: list[object]) -> None:
        self._take(items)
        self._recover_done()

    def _recover_done(self) -> None:
        """Move the damaged file aside and write back what could be read."""
        self._move_aside()
        kept = len(self.profiles)
        self._problem(f"kept {kept} profile{'s' if kept != 1 else ''}")
        if self.moved_aside is not None:
            try:
                self.save()
            except ProfileStoreError as exc:
                self._problem(str(exc))

    def _move_aside(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.bad-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.bad-{stamp}-{n}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            self._problem(f"could not move it aside: {exc.strerror or exc}")
            return
        self.moved_aside = target
        private_file(target)
        self._problem(f"the damaged file was moved aside to {target.name}")

    def _problem(self, text: str) -> None:
        self.problems.append(text)

    # ---- writing ----------------------------------------------------------------

    def save(self) -> None:
        if self._newer_format is not None and self.path.exists() and self.moved_aside is None:
            self._move_aside()  # don't overwrite what a newer version wrote: keep a copy
        self._newer_format = None
        fmt = FORMAT_VERSION if any(p.uses_ssh for p in self.profiles) else BASE_FORMAT
        doc = {"format": fmt, "profiles": [p.to_dict() for p in self.profiles]}
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            atomic_write(self.path, data)
        except OSError as exc:
            raise ProfileStoreError(
                f"cannot write {self.path}: {exc.strerror or exc.__class__.__name__}"
            ) from None

    # ---- profiles -----------------------------------------------------------------

    def names(self) -> list[str]:
        return [p.name for p in self.profiles]

    def get(self, name: str) -> Profile | None:
        for p in self.profiles:
            if p.name == name:
                return p
        return None

    def require(self, name: str) -> Profile:
        profile = self.get(name)
        if profile is None:
            raise UnknownProfile(name)
        return profile

    def add(self, profile: Profile, *, replace: bool = False,
            password: str | None = None, ssh_secret: str | None = None) -> Profile:
        """Add (or with replace=True overwrite) a profile and save; a colour is chosen."""
        profile.validate()
        existing = self.get(profile.name)
        if existing is not None and not replace:
            raise ProfileError(f"a profile named {profile.name!r} exists already")
        if not profile.color:
            profile.color = next_color([p.color for p in self.profiles if p is not existing])
        if existing is not None:
            self.profiles[self.profiles.index(existing)] = profile
        else:
            self.profiles.append(profile)
        self.save()
        if password:
            self.secrets.set(profile.name, password)
        if ssh_secret:
            self.ssh_secrets.set(profile.name, ssh_secret)
        return profile

    # The keyring half of update/remove/duplicate is its own method too, so that the
    # window can run it in a worker thread (a D-Bus keyring may block for seconds).

    def update(self, old_name: str, profile: Profile, *, move_secrets: bool = True) -> Profile:
        """Replace profile `old_name` with `profile` (a rename moves its password too)."""
        existing = self.require(old_name)
        profile.validate()
        if profile.name != old_name and self.get(profile.name) is not None:
            raise ProfileError(f"a profile named {profile.name!r} exists already")
        self.profiles[self.profiles.index(existing)] = profile
        self.save()
        if move_secrets:
            self.move_secrets(old_name, profile.name)
        return profile

    def move_secrets(self, old_name: str, new_name: str) -> None:
        if new_name != old_name:
            self.secrets.rename(old_name, new_name)
            self.ssh_secrets.rename(old_name, new_name)

    def remove(self, name: str, *, forget_secrets: bool = True) -> Profile:
        profile = self.require(name)
        self.profiles.remove(profile)
        self.save()
        if forget_secrets:
            self.forget_secrets(name)
        return profile

    def forget_secrets(self, name: str) -> None:
        self.secrets.delete(name)
        self.ssh_secrets.delete(name)

    def duplicate(self, name: str, *, copy_secrets: bool = True) -> Profile:
        """A copy named "NAME (copy)" with its own colour and the same password."""
        source = self.require(name)
        copy = source.copy(
            name=unique_name(f"{name} (copy)", self.names()), color="", auto_connect=False
        )
        self.add(copy)
        if copy_secrets:
            self.copy_secrets(name, copy.name)
        return copy

    def copy_secrets(self, name: str, to: str) -> None:
        for secrets in (self.secrets, self.ssh_secrets):
            password = secrets.get(name)
            if password:
                secrets.set(to, password, session_only=secrets.in_session_only(name))

    def conninfo(self, name: str) -> str:
        """The profile's libpq string with its stored password, if any."""
        return self.require(name).conninfo(self.secrets.get(name))

    def auto_connect(self) -> list[Profile]:
        return [p for p in self.profiles if p.auto_connect]
