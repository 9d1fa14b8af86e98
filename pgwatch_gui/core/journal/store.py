"""The journal file: where it lives, its schema, opening it safely, writing rows, retention.

One SQLite file (`journal.sqlite3` in the user data folder) holds the events of every
connection; the `profile` column says which. WAL mode: readers (the `history` command,
the timeline) never block the writer, and a process killed mid-write loses only the
transaction it had not committed. A file that is not a journal, is damaged, or comes
from a newer version of this program is moved aside (`.bad-` / `.newer-` plus a time
stamp) and a fresh one is started: a journal is never a reason not to start.

Events are stored in blocks, one per write (blocks.py says why and how); payloads
exactly as received, lone surrogates included, so the byte count is the same too.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from pgwatch_gui.core.host.private_files import private_dir, private_file, tighten_tree

FORMAT_VERSION = 1
FILE_NAME = "journal.sqlite3"
DEFAULT_MAX_BYTES = 1024**3  # 1 GB
DEFAULT_MAX_AGE = 7 * 24 * 3600.0  # 7 days
BUSY_TIMEOUT_MS = 5000
OPEN_BUSY_WAIT = 2.0  # seconds open_journal tries again on a lock without a busy handler
PAGE_SIZE = 16384  # blocks are blobs of kilobytes to megabytes: fewer overflow pages

# SQLite result codes that mean "this file is not (or no longer) a usable database".
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: events' seq derive from it
    n INTEGER NOT NULL,          -- events in the block
    ts_min REAL NOT NULL,        -- received_at of its earliest and latest event
    ts_max REAL NOT NULL,
    profile TEXT,                -- the connection's name, NULL when the block mixes several
    codec INTEGER NOT NULL,      -- how the payloads are kept, see blocks.py
    meta BLOB NOT NULL,          -- times, channels, pids, profiles (marshal)
    payloads NOT NULL            -- joined payloads: TEXT, or a BLOB (UTF-8, maybe zlib)
);
CREATE INDEX IF NOT EXISTS blocks_ts ON blocks(ts_max);
"""
_TABLES = {"blocks"}


class JournalError(Exception):
    """The journal cannot be used; the message says why in one line."""


class JournalBusy(JournalError):
    """Another connection holds the journal longer than the busy timeout: try later."""


def is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (in any extended form)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (5, 6)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def data_dir() -> Path:
    """The user data folder of pgwatch-gui ($PGWATCH_DATA_DIR overrides it)."""
    env = os.environ.get("PGWATCH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("pgwatch-gui", appauthor=False))


def default_path() -> Path:
    return data_dir() / FILE_NAME


SIDECARS = ("-wal", "-shm")


def secure_data_dir(folder: Path | None = None) -> None:
    """On start: the data folder and what it holds (the journal, its -wal/-shm, journals
    moved aside, the demo's folder and lock) become this user's alone. The demo's
    PostgreSQL data directory keeps its own modes (0700, the server's). Passable as root:
    see core/host/private_files.py."""
    tighten_tree(folder if folder is not None else data_dir(), passable=True,
                 skip=("pgdata",))


def make_private(path: Path, create: bool = True) -> None:
    """The journal file and its sidecars 0600; a missing journal is created 0600 first
    (`create`), so that the -wal and -shm SQLite makes take the same mode (SQLite copies
    the database file's mode to them)."""
    private_file(path, create=create)
    for suffix in SIDECARS:
        private_file(Path(str(path) + suffix))


@dataclass(frozen=True)
class Retention:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_age: float = DEFAULT_MAX_AGE  # seconds


def is_corruption(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _CORRUPT_CODES
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def move_aside(path: Path, why: str) -> Path:
    """Rename the journal (and its -wal/-shm files) to `<name>.<why>-YYYYMMDD-HHMMSS`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    os.replace(path, target)
    private_file(target)
    for suffix in SIDECARS:
        side = Path(str(path) + suffix)
        if side.exists():
            with contextlib.suppress(OSError):
                os.replace(side, Path(str(target) + suffix))
                private_file(Path(str(target) + suffix))
    return target


def _connect(path: Path) -> sqlite3.Connection:
    # No statement cache: a cached statement keeps its last bound values, and the
    # writer's INSERTs bind megabytes (36 MB more resident memory after 1,000,000
    # events, measured). Preparing one again is a few microseconds, ten times a second.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False, cached_statements=0)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def _prepare(conn: sqlite3.Connection) -> None:
    """Check the format, create the schema when new. Raises sqlite3 errors as they come."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the schema pages
    if version > FORMAT_VERSION:
        raise _NewerFormat(version)
    if version == 0:  # both only take effect before the first table is made
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"could not switch the journal to WAL mode ({mode})")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
    conn.execute("PRAGMA journal_size_limit=67108864")
    # The writer checkpoints when the stream is calm (writer.py), not every 1,000 pages.
    conn.execute("PRAGMA wal_autocheckpoint=0")
    if version == 0:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not names >= _TABLES:
        raise sqlite3.DatabaseError("file is not a database (not a pgwatch-gui journal)")


def _prepare_waiting(conn: sqlite3.Connection) -> None:
    """_prepare, tried again for up to OPEN_BUSY_WAIT seconds while another connection
    holds a lock: switching a new file to WAL takes an exclusive lock without SQLite's
    busy handler, so a second program opening at the same moment gets SQLITE_BUSY."""
    until = time.monotonic() + OPEN_BUSY_WAIT
    while True:
        try:
            _prepare(conn)
            return
        except sqlite3.Error as exc:
            if not is_busy(exc) or time.monotonic() >= until:
                raise
        time.sleep(0.02)


class _NewerFormat(Exception):
    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def open_journal(path: Path | None = None, *, create: bool = True
                 ) -> tuple[sqlite3.Connection, list[str]]:
    """Open (or create) the journal; returns the connection and what had to be done.

    A damaged file or one of a newer format is moved aside and a fresh journal started;
    the problems list says so in one line each. Locked or unwritable: JournalError.
    """
    path = Path(path) if path is not None else default_path()
    problems: list[str] = []
    if not create and not path.exists():
        raise JournalError(f"no journal at {path} yet")
    if create:
        try:
            private_dir(path.parent, passable=path.parent == data_dir())
        except OSError as exc:
            raise JournalError(f"cannot create the journal's folder {path.parent}: "
                               f"{exc.strerror or exc}") from None
    for _attempt in range(3):
        try:
            make_private(path, create=create)
        except OSError as exc:
            raise JournalError(f"cannot open the journal {path}: {exc.strerror or exc}"
                               ) from None
        conn = _connect(path)
        try:
            _prepare_waiting(conn)
            return conn, problems
        except _NewerFormat as exc:
            conn.close()
            if not create:
                raise JournalError(f"{path} was written by a newer pgwatch-gui "
                                   f"(format {exc.version}); this one reads format "
                                   f"{FORMAT_VERSION}") from None
            aside = move_aside(path, "newer")
            problems.append(f"the journal was written by a newer pgwatch-gui (format "
                            f"{exc.version}); kept as {aside.name}, a new one was started")
        except sqlite3.Error as exc:
            conn.close()
            if is_busy(exc):
                raise JournalBusy(f"the journal {path} is locked by another program: "
                                  f"{exc}") from None
            if not is_corruption(exc):
                raise JournalError(f"cannot open the journal {path}: {exc}") from None
            if not create:
                raise JournalError(f"the journal {path} is damaged: {exc}") from None
            aside = move_aside(path, "bad")
            problems.append(f"the journal was damaged ({exc}); kept as {aside.name}, "
                            "a new one was started")
    raise JournalError(f"cannot open the journal {path}")


# ---- retention ------------------------------------------------------------------------------


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the journal in use (pages not on the free list)."""
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return (pages - free) * page_size


def _delete_chunked(conn: sqlite3.Connection, where: str, args: tuple, chunk: int) -> int:
    total = 0
    while True:
        cur = conn.execute(
            f"DELETE FROM blocks WHERE id IN (SELECT id FROM blocks WHERE {where} "
            f"ORDER BY id LIMIT {int(chunk)})", args)
        total += max(cur.rowcount, 0)
        if cur.rowcount < chunk:
            return total


def enforce_retention(conn: sqlite3.Connection, retention: Retention,
                      now: float | None = None, chunk: int = 2_000) -> int:
    """Delete blocks whose newest event is older than max_age, then the oldest blocks
    until under max_bytes. Returns how many blocks went.

    Each DELETE is its own short transaction (autocommit), so a reader or another
    writer waits at most for one chunk. Free pages go back to the file system.
    """
    now = time.time() if now is None else now
    deleted = _delete_chunked(conn, "ts_max < ?", (now - retention.max_age,), chunk)
    for _ in range(20):
        used = used_bytes(conn)
        if used <= retention.max_bytes:
            break
        lo, hi = conn.execute("SELECT min(id), max(id) FROM blocks").fetchone()
        if lo is None:
            break
        rows = hi - lo + 1
        # Aim 10 % under the limit, so this does not run again on the next batch.
        share = (used - 0.9 * retention.max_bytes) / used
        n = max(1, min(rows, int(rows * share) + 1, chunk * 5))
        cur = conn.execute("DELETE FROM blocks WHERE id < ?", (lo + n,))
        deleted += max(cur.rowcount, 0)
    if deleted:
        # executescript steps it to the end (execute() frees one page per step)
        conn.executescript("PRAGMA incremental_vacuum;")
    return deleted


def journal_files_size(path: Path) -> int:
    """Bytes on disk of the journal and its WAL."""
    total = 0
    for p in (Path(path), Path(str(path) + "-wal")):
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total
