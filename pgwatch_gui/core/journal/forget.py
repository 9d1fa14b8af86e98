"""Forgetting history: the events go, and so do their bytes on disk.

    done = forget_file(path, profile="shop", before=ts)   # or everything=True
    done.line()   # "Removed 1,234 events of shop received before ...; the journal ..."

Deleting rows is not enough: SQLite leaves the deleted payloads in free pages of the file
and in the -wal. So: the rows go (`secure_delete` on, so the pages they leave are zeroed),
a block that mixes kept and forgotten events (several connections in one write, or one
that straddles the time) is unpacked and written again without them, then VACUUM rebuilds
the file and a TRUNCATE checkpoint empties the -wal. The window's writer runs this on its
own thread after writing what it has queued (JournalWriter.forget), so an event received
before the user asked cannot be written back afterwards; another program reading the
journal at that moment can delay the checkpoint, and the result says so.

`everything=True` also deletes journals moved aside (`.bad-…`, `.newer-…`): they hold
payloads too.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from pgwatch_gui.core.journal.blocks import BlockError, pack, unpack
from pgwatch_gui.core.journal.store import (
    SIDECARS,
    JournalError,
    journal_files_size,
    open_journal,
)

CHECKPOINT_TRIES = 20  # the busy handler waits up to 5 s each for a reader to finish


@dataclass
class Forgotten:
    """What a forget did, for one line of output."""

    events: int = 0
    rewritten: int = 0  # blocks written again without the forgotten events
    damaged: int = 0  # blocks that could not be read (deleted: they may hold payloads)
    bytes_before: int = 0
    bytes_after: int = 0
    wal_emptied: bool = True
    removed_files: list[Path] = field(default_factory=list)
    scope: str = ""

    def line(self) -> str:
        text = (f"Removed {self.events:,} event{'s' if self.events != 1 else ''} "
                f"({self.scope}); the journal went from {_mb(self.bytes_before)} to "
                f"{_mb(self.bytes_after)} on disk")
        if self.damaged:
            text += f"; {self.damaged} damaged block(s) deleted as well"
        if self.removed_files:
            text += (f"; {len(self.removed_files)} journal(s) kept aside deleted too "
                     f"({', '.join(p.name for p in self.removed_files)})")
        if not self.wal_emptied:
            text += ("; another program is reading the journal, so its -wal file still "
                     "holds old pages: run this again once it has finished")
        return text + "."


def _mb(n: int) -> str:
    return f"{n / 1024**2:.1f} MB" if n >= 100 * 1024 else f"{n / 1024:.0f} kB"


def describe_scope(profile: str | None, before: float | None) -> str:
    who = f"connection {profile!r}" if profile is not None else "every connection"
    if before is None:
        return who
    return f"{who}, received before {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(before))}"


def forget_rows(conn: sqlite3.Connection, *, profile: str | None = None,
                before: float | None = None) -> Forgotten:
    """Delete the events of `profile` (None: every connection) received before `before`
    (None: whenever), in one transaction. The file is not compacted: see compact()."""
    done = Forgotten(scope=describe_scope(profile, before))
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Whole blocks: of that connection alone, newest event before the time.
        where, args = _where(("profile = ?", profile), ("ts_max < ?", before))
        done.events += conn.execute(
            f"SELECT coalesce(sum(n), 0) FROM blocks WHERE {where}", args).fetchone()[0]
        conn.execute(f"DELETE FROM blocks WHERE {where}", args)
        # Blocks that may hold some of them: mixed connections, or straddling the time.
        if profile is not None or before is not None:
            where, args = _where(("(profile = ? OR profile IS NULL)", profile),
                                 ("ts_min < ?", before))
            _split_blocks(conn, where, args, profile, before, done)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return done


def _where(*conds: tuple[str, object]) -> tuple[str, list]:
    """ "a AND b" of the conditions whose value is given (all rows when none is)."""
    parts = [sql for sql, value in conds if value is not None]
    return " AND ".join(parts) or "1", [v for _, v in conds if v is not None]


def _split_blocks(conn: sqlite3.Connection, where: str, args: list, profile: str | None,
                  before: float | None, done: Forgotten) -> None:
    rows = conn.execute(f"SELECT id, codec, meta, payloads FROM blocks WHERE {where}",
                        args).fetchall()
    for bid, codec, meta, payloads in rows:
        try:
            events = unpack(bid, codec, meta, payloads)
        except BlockError:
            conn.execute("DELETE FROM blocks WHERE id = ?", (bid,))
            done.damaged += 1
            continue
        keep = [e for e in events
                if not ((profile is None or e.profile == profile)
                        and (before is None or e.received_at < before))]
        if len(keep) == len(events):
            continue
        done.events += len(events) - len(keep)
        if not keep:
            conn.execute("DELETE FROM blocks WHERE id = ?", (bid,))
            continue
        codec2, meta2, payloads2, lo, hi, prof = pack(keep, compress=True)
        conn.execute("UPDATE blocks SET n = ?, ts_min = ?, ts_max = ?, profile = ?, codec = ?, "
                     "meta = ?, payloads = ? WHERE id = ?",
                     (len(keep), lo, hi, prof, codec2, meta2, payloads2, bid))
        done.rewritten += 1


def compact(conn: sqlite3.Connection) -> bool:
    """VACUUM (a file without the freed pages), then empty the -wal (TRUNCATE checkpoint).
    False when a reader elsewhere kept the checkpoint from finishing."""
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("VACUUM")
    for _ in range(CHECKPOINT_TRIES):
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        time.sleep(0.05)
    return False


def forget_in(conn: sqlite3.Connection, path: Path, *, profile: str | None = None,
              before: float | None = None) -> Forgotten:
    """forget_rows + compact on an open connection (the writer's, or our own)."""
    size = journal_files_size(path)
    was = conn.execute("PRAGMA secure_delete").fetchone()[0]
    try:
        done = forget_rows(conn, profile=profile, before=before)
        done.bytes_before = size
        done.wal_emptied = compact(conn)
    finally:  # the writer's retention goes on as it was
        conn.execute(f"PRAGMA secure_delete={int(was)}")
    done.bytes_after = journal_files_size(path)
    return done


def aside_files(path: Path) -> list[Path]:
    """Journals moved aside next to `path` (damaged, or of a newer format), sidecars too."""
    found = []
    for why in ("bad", "newer"):
        found += sorted(path.parent.glob(f"{path.name}.{why}-*"))
    return found


def remove_aside(path: Path) -> list[Path]:
    removed = []
    for p in aside_files(path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)
            if not any(p.name.endswith(s) for s in SIDECARS):
                removed.append(p)
    return removed


def forget_file(path: Path, *, profile: str | None = None, before: float | None = None,
                everything: bool = False) -> Forgotten:
    """Open the journal at `path`, forget, compact, close. `everything` (no profile, no
    time): journals moved aside are deleted too. Raises JournalError."""
    if everything and (profile is not None or before is not None):
        raise ValueError("everything means no profile and no time")
    path = Path(path)
    if not path.exists():
        done = Forgotten(scope=describe_scope(profile, before))
    else:
        conn, _ = open_journal(path, create=False)
        try:
            done = forget_in(conn, path, profile=profile, before=before)
        except sqlite3.Error as exc:
            raise JournalError(f"could not clear the journal {path}: {exc}") from None
        finally:
            conn.close()
    if everything:
        done.removed_files = remove_aside(path)
    return done
