"""A keyring backend for the tests: a JSON file in a temporary folder, never the user's.

Selected in-process by tests/conftest.py (keyring.set_keyring) and in subprocesses
through PYTHON_KEYRING_BACKEND=tests.keyring_backend.TempFileKeyring, with the file
named by PGWATCH_TEST_KEYRING_FILE. Tests read the file to check what was stored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV_FILE = "PGWATCH_TEST_KEYRING_FILE"


class TempFileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        super().__init__()
        path = path or os.environ.get(ENV_FILE)
        if not path:
            raise RuntimeError(f"{ENV_FILE} is not set: refusing to guess a keyring file")
        self.path = Path(path)

    def _read(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}

    def _write(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), "utf-8")
        os.replace(tmp, self.path)

    @staticmethod
    def _key(service: str, username: str) -> str:
        return f"{service}\x00{username}"

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(self._key(service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data[self._key(service, username)] = password
        self._write(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        if data.pop(self._key(service, username), None) is None:
            raise PasswordDeleteError("no such password")
        self._write(data)

    def entries(self) -> dict[str, str]:
        """{profile name: password} stored under any service (for assertions)."""
        return {k.split("\x00", 1)[1]: v for k, v in self._read().items()}
