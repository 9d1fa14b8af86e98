"""What the program keeps on disk is its user's alone: every file 0600, every folder of ours
0700, under a umask of 022 (a new user's), on creation and, for what an older version left
0644 in 0755, on start. Modes are read from st_mode."""

from __future__ import annotations

import json
import logging
import os
import stat
import time

import pytest

from pgwatch_gui.core.host import applog
from pgwatch_gui.core.host.private_files import (
    PASSABLE_DIR_MODE,
    open_private,
    private_dir,
    private_file,
    tighten_tree,
)
from pgwatch_gui.core.journal.store import make_private, open_journal, secure_data_dir
from pgwatch_gui.core.journal.writer import JournalWriter
from pgwatch_gui.core.profiles.model import Profile
from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.core.stream.events import new_event

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")

ROOT = os.geteuid() == 0


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def loose(path, m) -> None:
    os.chmod(path, m)
    assert mode(path) == m


# ---- the helper ---------------------------------------------------------------------------


def test_private_dir_makes_only_our_folder_private(tmp_path):
    shared = tmp_path / "share"
    ours = private_dir(shared / "pgwatch-gui")
    assert mode(ours) == 0o700
    assert mode(shared) == 0o755  # shared by design (~/.local/share): left alone
    loose(ours, 0o755)
    private_dir(ours)
    assert mode(ours) == 0o700


def test_private_file_and_open_private_ignore_the_umask(tmp_path):
    made = private_file(tmp_path / "made", create=True)
    assert mode(made) == 0o600
    with open_private(tmp_path / "opened", "a", encoding="utf-8") as fh:
        fh.write("x")
    assert mode(tmp_path / "opened") == 0o600
    old = tmp_path / "old"
    old.write_text("x")
    assert mode(old) == 0o644
    private_file(old)
    assert mode(old) == 0o600
    script = tmp_path / "script"
    script.write_text("x")
    loose(script, 0o755)
    private_file(script)
    assert mode(script) == 0o700  # the owner's bits stay: only others lose theirs


def test_tighten_tree_skips_what_it_must(tmp_path):
    root = tmp_path / "data"
    (root / "demo" / "pgdata").mkdir(parents=True)
    (root / "demo" / "pgdata" / "PG_VERSION").write_text("16")
    (root / "demo" / "demo.lock").write_text("{}")
    (root / "journal.sqlite3").write_text("")
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    loose(sticky, 0o1777)
    (root / "link").symlink_to(sticky)
    tighten_tree(root, skip=("pgdata",))
    assert mode(root) == 0o700
    assert mode(root / "demo") == 0o700
    assert mode(root / "demo" / "demo.lock") == 0o600
    assert mode(root / "journal.sqlite3") == 0o600
    assert mode(root / "demo" / "pgdata") == 0o755  # the server's own: left as it is
    assert mode(root / "demo" / "pgdata" / "PG_VERSION") == 0o644
    assert mode(sticky) == 0o1777  # a symlink is not followed
    tighten_tree(sticky)
    assert mode(sticky) == 0o1777  # a sticky folder (/tmp) is never ours


def test_tighten_tree_never_walks_the_home_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "tool").write_text("x")
    loose(home / "bin" / "tool", 0o755)
    monkeypatch.setenv("HOME", str(home))
    tighten_tree(home)  # PGWATCH_DATA_DIR=~ by mistake
    tighten_tree(tmp_path)
    assert mode(home / "bin" / "tool") == 0o755


@pytest.mark.skipif(not ROOT, reason="runs as root")
def test_passable_folders_as_root_can_be_passed_never_listed(tmp_path):
    """As root, the demo's server runs as another system user: the data folder lets it
    pass (0711), never list or read; a non-root user gets 0700 (the same folder owned by
    another uid, as that uid)."""
    data = private_dir(tmp_path / "data", passable=True)
    assert mode(data) == PASSABLE_DIR_MODE
    other = tmp_path / "other"
    other.mkdir()
    loose(other, 0o755)
    os.chown(other, 1000, 1000)
    real = os.geteuid
    try:
        os.geteuid = lambda: 1000  # type: ignore[assignment]
        private_dir(other, passable=True)
    finally:
        os.geteuid = real  # type: ignore[assignment]
    assert mode(other) == 0o700


# ---- the journal ----------------------------------------------------------------------------


def events(n, text="payload"):
    now = time.time()
    return [new_event(i, now, "shop", "orders", 1, json.dumps({"i": i, "t": text}))
            for i in range(n)]


def test_journal_and_the_wal_and_shm_sqlite_makes_are_0600(tmp_path, monkeypatch):
    data = tmp_path / "share" / "pgwatch-gui"
    monkeypatch.setenv("PGWATCH_DATA_DIR", str(data))
    path = data / "journal.sqlite3"
    w = JournalWriter(path).start()
    w.submit(events(10))
    assert w.flush(10)
    wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
    # The writer's connection is open: SQLite made -wal and -shm itself, with the
    # database file's mode.
    assert wal.exists() and shm.exists()
    assert {p.name: mode(p) for p in (path, wal, shm)} == {
        path.name: 0o600, wal.name: 0o600, shm.name: 0o600}
    w.close()
    assert mode(data) == (PASSABLE_DIR_MODE if ROOT else 0o700)
    assert mode(data.parent) == 0o755  # ~/.local/share: shared by design


def test_an_existing_loose_journal_is_tightened_when_opened(tmp_path):
    path = tmp_path / "journal.sqlite3"
    conn, _ = open_journal(path)
    conn.execute("INSERT INTO blocks (n, ts_min, ts_max, codec, meta, payloads) "
                 "VALUES (0, 0, 0, 0, x'', '')")
    for p in tmp_path.iterdir():  # as an older version left them
        loose(p, 0o644)
    loose(tmp_path, 0o755)
    conn.close()
    conn, _ = open_journal(path, create=False)  # the `history` command reading it
    conn.close()
    assert mode(path) == 0o600
    for p in tmp_path.iterdir():
        assert mode(p) == 0o600, p


def test_data_folder_tightened_on_start_demo_data_left_to_the_server(tmp_path):
    data = tmp_path / "data"
    (data / "demo" / "pgdata").mkdir(parents=True)
    for name in ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm",
                 "journal.sqlite3.bad-20260101-000000", "demo/demo.lock"):
        (data / name).write_text("x")
    loose(data, 0o755)
    secure_data_dir(data)
    assert mode(data) == (PASSABLE_DIR_MODE if ROOT else 0o700)
    for name in ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm",
                 "journal.sqlite3.bad-20260101-000000", "demo/demo.lock"):
        assert mode(data / name) == 0o600, name
    assert mode(data / "demo" / "pgdata") == 0o755


def test_make_private_creates_the_journal_before_sqlite(tmp_path):
    path = tmp_path / "j.sqlite3"
    make_private(path)
    assert path.exists() and path.stat().st_size == 0 and mode(path) == 0o600
    conn, _ = open_journal(path)  # an empty file is a new database to SQLite
    conn.close()
    assert mode(path) == 0o600


# ---- the log --------------------------------------------------------------------------------


def test_log_folder_and_files_are_private_rollover_included(tmp_path, monkeypatch):
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "pgwatch-gui.log.1").write_text("an older version's")
    loose(folder, 0o755)
    monkeypatch.setenv("PGWATCH_LOG_DIR", str(folder))
    monkeypatch.setattr(applog, "LOG_BYTES", 200)
    monkeypatch.setattr(applog, "_hook_uncaught", lambda: None)
    handler = applog.setup_logging()
    try:
        for i in range(20):
            logging.getLogger("pgwatch_gui.test").warning("line %d of a rolling log", i)
    finally:
        applog.remove_logging(handler)
    names = sorted(p.name for p in folder.iterdir())
    assert "pgwatch-gui.log" in names and "pgwatch-gui.log.3" in names
    assert mode(folder) == 0o700
    assert {n: mode(folder / n) for n in names} == dict.fromkeys(names, 0o600)


# ---- the profiles file ----------------------------------------------------------------------


def test_profiles_file_and_folder_private_and_tightened_on_load(tmp_path):
    folder = tmp_path / "config" / "pgwatch-gui"
    store = ProfileStore(folder / "profiles.json")
    store.add(Profile(name="a", host="h"))
    assert mode(folder) == 0o700 and mode(folder / "profiles.json") == 0o600
    assert mode(folder.parent) == 0o755
    (folder / "pgwatch-gui.conf").write_text("[General]\n")  # the window's settings
    for p in (folder, folder / "profiles.json", folder / "pgwatch-gui.conf"):
        loose(p, 0o755 if p.is_dir() else 0o644)
    ProfileStore.open(folder / "profiles.json")
    assert mode(folder) == 0o700
    assert mode(folder / "profiles.json") == 0o600
    assert mode(folder / "pgwatch-gui.conf") == 0o600


def test_a_damaged_profiles_file_moved_aside_stays_private(tmp_path):
    path = tmp_path / "profiles.json"
    path.write_text("{ not json")
    loose(path, 0o644)
    store = ProfileStore.open(path)
    assert store.moved_aside is not None
    assert mode(store.moved_aside) == 0o600


# ---- the demo's lock, known_hosts -----------------------------------------------------------


def test_demo_lock_is_private(tmp_path):
    from pgwatch_gui.core.demo.server import DemoLock

    lock = DemoLock(tmp_path / "demo" / "demo.lock")
    lock.acquire()
    try:
        assert mode(lock.path) == 0o600
        assert mode(lock.path.parent) == (PASSABLE_DIR_MODE if ROOT else 0o700)
    finally:
        lock.release()


def test_known_hosts_written_0600(tmp_path):
    from pgwatch_gui.core.ssh.known_hosts import record

    path = tmp_path / ".ssh" / "known_hosts"
    record(path, "bastion", 22, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
