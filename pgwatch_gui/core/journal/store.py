"""The journal file: where it lives, its schema, opening it safely, writing rows, retention.

One SQLite file (`journal.sqlite3` in the user data folder) holds the events of every
connection; the `profile` column says which. WAL mode: readers (the `history` command,
the timeline) never block the writer, and a process killed mid-write loses only the
transaction it had not committed. A file that is not a journal, is damaged, or comes
from a newer version of this program is moved aside (`.bad-` / `.newer-` plus a time
stamp) and a fresh one is started: a journal is never a reason not to start.

Payloads are stored as received: as TEXT, or, when the text cannot be UTF-8 encoded
(lone surrogates from a recording), as a BLOB holding its UTF-8 bytes with the
surrogates kept; reading gives back the same string, and the same byte count.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from pgwatch_gui.core.events import Event

FORMAT_VERSION = 1
FILE_NAME = "journal.sqlite3"
DEFAULT_MAX_BYTES = 1024**3  # 1 GB
DEFAULT_MAX_AGE = 7 * 24 * 3600.0  # 7 days
BUSY_TIMEOUT_MS = 5000

# SQLite result codes that mean "this file is not (or no longer) a usable database".
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,           -- received_at, seconds since the epoch
    profile TEXT NOT NULL,      -- the connection's name
    channel TEXT NOT NULL,
    pid INTEGER NOT NULL,       -- the notifying backend's pid
    payload NOT NULL,           -- TEXT as received, or a BLOB (UTF-8, surrogates kept)
    kind TEXT NOT NULL,         -- notify / gap
    own INTEGER NOT NULL        -- sent by this program's own connection
);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
"""

COLUMNS = "id, ts, profile, channel, pid, payload, kind, own"
_ROW_OF = attrgetter("received_at", "profile", "channel", "pid", "payload", "kind", "own")
INSERT_CHUNK = 500  # rows per INSERT statement: one GIL release per chunk, not per row


class JournalError(Exception):
    """The journal cannot be used; the message says why in one line."""


def data_dir() -> Path:
    """The user data folder of pgwatch-gui ($PGWATCH_DATA_DIR overrides it)."""
    env = os.environ.get("PGWATCH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("pgwatch-gui", appauthor=False))


def default_path() -> Path:
    return data_dir() / FILE_NAME


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
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            with contextlib.suppress(OSError):
                os.replace(side, Path(str(target) + suffix))
    return target


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False, cached_statements=64)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def _prepare(conn: sqlite3.Connection) -> None:
    """Check the format, create the schema when new. Raises sqlite3 errors as they come."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the schema pages
    if version > FORMAT_VERSION:
        raise _NewerFormat(version)
    if version == 0:
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # before the first table only
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"could not switch the journal to WAL mode ({mode})")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
    conn.execute("PRAGMA journal_size_limit=67108864")
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
    cols = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    if not {"id", "ts", "profile", "channel", "pid", "payload", "kind", "own"} <= cols:
        raise sqlite3.DatabaseError("file is not a database (no events table)")


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
    path.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(3):
        conn = _connect(path)
        try:
            _prepare(conn)
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
            if not is_corruption(exc):
                raise JournalError(f"cannot open the journal {path}: {exc}") from None
            if not create:
                raise JournalError(f"the journal {path} is damaged: {exc}") from None
            aside = move_aside(path, "bad")
            problems.append(f"the journal was damaged ({exc}); kept as {aside.name}, "
                            "a new one was started")
    raise JournalError(f"cannot open the journal {path}")


# ---- writing -------------------------------------------------------------------------------


def _insert_sql(n: int) -> str:
    return ("INSERT INTO events(ts, profile, channel, pid, payload, kind, own) VALUES "
            + ",".join(["(?,?,?,?,?,?,?)"] * n))


_SQL_FULL = _insert_sql(INSERT_CHUNK)


def _safe_text(s: str) -> str:
    return s.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _safe_row(row: tuple) -> tuple:
    ts, profile, channel, pid, payload, kind, own = row
    try:
        payload.encode("utf-8")
    except UnicodeEncodeError:
        payload = payload.encode("utf-8", "surrogatepass")
    return (ts, _safe_text(profile), _safe_text(channel), pid, payload, kind, own)


def insert_events(conn: sqlite3.Connection, events: Sequence[Event]) -> int:
    """Append events in one transaction (the caller's, if one is open). Returns the count."""
    rows = list(map(_ROW_OF, events))
    for a in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[a:a + INSERT_CHUNK]
        sql = _SQL_FULL if len(chunk) == INSERT_CHUNK else _insert_sql(len(chunk))
        params = [v for row in chunk for v in row]
        try:
            conn.execute(sql, params)
        except UnicodeEncodeError:
            conn.execute(sql, [v for row in chunk for v in _safe_row(row)])
    return len(rows)


def row_to_event(row: tuple) -> Event:
    """(id, ts, profile, channel, pid, payload, kind, own) -> Event; seq is the row id."""
    rid, ts, profile, channel, pid, payload, kind, own = row
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", "surrogatepass")
    return Event(rid, ts, profile, channel, pid, payload, kind=kind, own=bool(own))


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
            f"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE {where} "
            f"ORDER BY id LIMIT {int(chunk)})", args)
        total += max(cur.rowcount, 0)
        if cur.rowcount < chunk:
            return total


def enforce_retention(conn: sqlite3.Connection, retention: Retention,
                      now: float | None = None, chunk: int = 20_000) -> int:
    """Delete events older than max_age, then the oldest until under max_bytes.

    Each DELETE is its own short transaction (autocommit), so a reader or another
    writer waits at most for one chunk. Free pages go back to the file system.
    """
    now = time.time() if now is None else now
    deleted = _delete_chunked(conn, "ts < ?", (now - retention.max_age,), chunk)
    for _ in range(20):
        used = used_bytes(conn)
        if used <= retention.max_bytes:
            break
        lo, hi = conn.execute("SELECT min(id), max(id) FROM events").fetchone()
        if lo is None:
            break
        rows = hi - lo + 1
        # Aim 10 % under the limit, so this does not run again on the next batch.
        share = (used - 0.9 * retention.max_bytes) / used
        n = max(1, min(rows, int(rows * share) + 1, chunk * 5))
        cur = conn.execute("DELETE FROM events WHERE id < ?", (lo + n,))
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
