"""JournalWriter: events go to disk on a worker thread, in batches; the caller never waits
on the disk.

`submit(batch)` queues the batch. A large batch (a busy stream) is packed into blocks
right there, on the caller's thread (about 0.3 µs per event, blocks.py): packing needs
the GIL wherever it runs, and done by the worker it cost the event loop more, in GIL
hand-overs, and in waits whenever the system preempted the worker while it held the
GIL. Small batches (a calm stream) are queued as they are and packed, compressed, by
the worker. The worker wakes every `interval` (100 ms), takes everything queued and
writes it with one INSERT statement (its own transaction); it holds the GIL only to
bind a few blobs, and takes it as few times as it can (blocks.py says why). A process
killed at any moment loses at most the last interval plus one write.

The worker is supervised by itself: an error is logged, counted, kept in `error`, and
reported through `on_problem` (called on the worker thread); the loop goes on. A
damaged journal is moved aside and a fresh one started. A locked one (another program
holding a long write) is retried; meanwhile events wait in memory, at most
`max_pending`, beyond which the oldest are dropped, counted, and marked in the journal
by a gap row.

Between writes it gives memory back, checkpoints and applies retention (upkeep.py).

`forget()` clears history on the same thread, after writing what is queued: an event
received before the user asked is never written back after the clearing (forget.py).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from itertools import chain
from pathlib import Path

from pgwatch_gui.core.journal.blocks import COMPRESS_BELOW, Packed, insert_packed, pack_chunks
from pgwatch_gui.core.journal.forget import Forgotten, forget_in, remove_aside
from pgwatch_gui.core.journal.store import (
    JournalBusy,
    JournalError,
    Retention,
    default_path,
    enforce_retention,
    is_busy,
    is_corruption,
    move_aside,
    open_journal,
)
from pgwatch_gui.core.journal.upkeep import RETENTION_INTERVAL, Upkeep
from pgwatch_gui.core.stream.events import KIND_GAP, Event

log = logging.getLogger(__name__)

WRITE_INTERVAL = 0.1
PACK_ON_SUBMIT = 128  # batches this large are packed by submit() (see above)
MAX_PENDING = 2_000_000


class _PackedBatch:
    __slots__ = ("blocks", "n")

    def __init__(self, blocks: list[Packed]) -> None:
        self.blocks = blocks
        self.n = sum(b[0] for b in blocks)

    def __len__(self) -> int:
        return self.n


class JournalWriter:
    def __init__(self, path: Path | None = None, *, retention: Retention | None = None,
                 interval: float = WRITE_INTERVAL, retention_interval: float = RETENTION_INTERVAL,
                 max_pending: int = MAX_PENDING,
                 on_problem: Callable[[str], None] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.retention = retention or Retention()
        self.interval = interval
        self.max_pending = max_pending
        self.on_problem = on_problem

        self._queue: deque[Sequence[Event] | _PackedBatch] = deque()
        self._pending = 0  # events queued, approximately (two threads update it)
        self.submitted = 0  # events handed to submit(), caller's thread only
        self.written = 0  # events committed, worker only
        self.dropped = 0  # events never written (backlog overflow, write errors)
        self.retained_deleted = 0
        self.error: str | None = None
        self.problems: list[str] = []
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._upkeep = Upkeep(interval, retention_interval)
        self._flushed = threading.Condition()
        self._commands: deque[tuple[Callable[[sqlite3.Connection], object], Future]] = deque()

    # ---- caller's side ------------------------------------------------------------------

    def start(self) -> JournalWriter:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pgwatch-journal",
                                            daemon=True)
            self._thread.start()
        return self

    @property
    def trims(self) -> int:
        """How many times the writer gave freed memory back to the system."""
        return self._upkeep.trims

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, batch: Sequence[Event], one_profile: bool = False) -> None:
        """Queue a batch (kept as it is: do not change the list afterwards).
        `one_profile`: every event has the first one's profile (see blocks.pack)."""
        if not batch:
            return
        self._queue.append(_PackedBatch(pack_chunks(batch, False, one_profile))
                           if len(batch) >= PACK_ON_SUBMIT else batch)
        self._pending += len(batch)
        self.submitted += len(batch)
        if self._pending > self.max_pending:
            self._shed()

    def _shed(self) -> None:
        lost = 0
        while self._pending > self.max_pending // 2 and len(self._queue) > 1:
            try:
                old = self._queue.popleft()
            except IndexError:
                break
            lost += len(old)
            self._pending -= len(old)
        if lost:
            self.dropped += lost
            now = time.time()
            marker = Event(0, now, "", "", 0,
                           f"the journal fell behind: {lost} events were not written",
                           kind=KIND_GAP)
            self._queue.appendleft([marker])
            self._pending += 1
            self.submitted += 1

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is written (or dropped)."""
        target = self.submitted
        deadline = time.monotonic() + timeout
        with self._flushed:
            while self.written + self.dropped < target:
                if not self.alive:
                    return False
                self._wake.set()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._flushed.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the worker."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def take_pending(self) -> list:
        """What is queued and not yet written (for a successor after this writer died)."""
        items = []
        while self._queue:
            items.append(self._queue.popleft())
        return items

    def submit_packed(self, item) -> None:
        """Queue an item taken from another writer's take_pending()."""
        self._queue.append(item)
        self._pending += len(item)
        self.submitted += len(item)

    def forget(self, *, profile: str | None = None, before: float | None = None,
               everything: bool = False) -> Future[Forgotten]:
        """Clear history (forget.py) on the writer's thread once what is queued now is
        written; the Future gets the Forgotten, or the JournalError/sqlite3.Error."""

        def run(conn: sqlite3.Connection) -> Forgotten:
            done = forget_in(conn, self.path, profile=profile, before=before)
            if everything:
                done.removed_files = remove_aside(self.path)
            self._upkeep.unchecked = 0
            return done

        fut: Future[Forgotten] = Future()
        if not self.alive:
            fut.set_exception(JournalError("the journal writer is not running"))
            return fut
        self._commands.append((run, fut))
        self._wake.set()
        return fut

    def set_retention(self, retention: Retention) -> None:
        self.retention = retention
        self._upkeep.last_retention = 0.0
        self._wake.set()

    # ---- worker -------------------------------------------------------------------------

    def _problem(self, text: str) -> None:
        self.error = text
        self.problems.append(text)
        del self.problems[:-20]
        log.warning("journal: %s", text)
        if self.on_problem is not None:
            try:
                self.on_problem(text)
            except Exception:  # a reporting failure must not stop the writing
                log.exception("journal problem callback failed")

    def _run(self) -> None:
        while True:
            self._wake.wait(self._upkeep.next_wait)
            self._wake.clear()
            stopping = self._stop
            try:
                self._step()
            except Exception as exc:  # supervision: say it, keep going
                log.exception("journal writer")
                self._problem(f"journal writer: {exc.__class__.__name__}: {exc}")
                time.sleep(min(1.0, self.interval * 5))
            if stopping and not self._queue:
                break
        while self._commands:
            _fn, fut = self._commands.popleft()
            if fut.set_running_or_notify_cancel():
                fut.set_exception(JournalError("the journal writer stopped"))
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA optimize")
            self._conn.close()
            self._conn = None
        with self._flushed:
            self._flushed.notify_all()

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn, problems = open_journal(self.path)
            for p in problems:
                self._problem(p)
        return self._conn

    def _step(self) -> None:
        n = 0
        items: list[Sequence[Event] | _PackedBatch] = []
        while self._queue:
            items.append(self._queue.popleft())
        if items:
            blocks: list[Packed] = []
            raw: list[Sequence[Event]] = []
            for item in [*items, None]:
                if isinstance(item, _PackedBatch) or item is None:
                    if raw:
                        events = list(chain.from_iterable(raw))
                        blocks += pack_chunks(events, len(events) < COMPRESS_BELOW)
                        raw = []
                    if item is not None:
                        blocks += item.blocks
                else:
                    raw.append(item)
            n = sum(b[0] for b in blocks)
            self._pending -= n
            self._write(blocks, n)
        self._upkeep.after_write(n, bool(self._queue), self._checkpoint, self._retain)
        self._run_commands()

    def _retain(self) -> None:
        self.retained_deleted += enforce_retention(self._open(), self.retention)

    def _run_commands(self) -> None:
        while self._commands:
            fn, fut = self._commands.popleft()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(self._open()))
            except BaseException as exc:  # to whoever waits on it, never lost
                fut.set_exception(exc)

    def _checkpoint(self) -> bool:
        try:
            conn = self._open()
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except (sqlite3.OperationalError, JournalBusy):
            return False  # busy: another connection checkpoints or writes; next time
        return True

    def _write(self, blocks: list[Packed], n: int) -> None:
        for attempt in range(3):
            try:
                conn = self._open()
                if len(blocks) <= 100:
                    insert_packed(conn, blocks)  # one statement: its own transaction
                else:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        insert_packed(conn, blocks)
                        conn.execute("COMMIT")
                    except BaseException:
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                        raise
            except JournalBusy as exc:
                self._keep(blocks, n, str(exc))
                return
            except JournalError as exc:
                self._lose(n, exc)  # counted and said, never silently gone
                return
            except sqlite3.OperationalError as exc:
                if is_busy(exc):
                    self._keep(blocks, n, f"the journal is locked by another program ({exc})")
                    return
                if attempt == 2:
                    self._lose(n, exc)
                    return
                self._reopen()
            except sqlite3.DatabaseError as exc:
                if is_corruption(exc) and attempt < 2:
                    self._recover(exc)
                    continue
                self._lose(n, exc)
                return
            else:
                self.written += n
                if self.error is not None and "locked" in self.error:
                    self.error = None
                with self._flushed:
                    self._flushed.notify_all()
                return

    def _keep(self, blocks: list[Packed], n: int, why: str) -> None:
        """Another program holds the journal: the events go back first in line."""
        self._queue.appendleft(_PackedBatch(blocks))
        self._pending += n
        self._problem(f"{why}; retrying")

    def _lose(self, n: int, exc: Exception) -> None:
        self.dropped += n
        self._problem(f"{n} events could not be written to the journal: {exc}")
        with self._flushed:
            self._flushed.notify_all()

    def _reopen(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _recover(self, exc: Exception) -> None:
        self._reopen()
        try:
            aside = move_aside(self.path, "bad")
        except OSError as move_exc:
            self._problem(f"the journal is damaged ({exc}) and could not be moved aside: "
                          f"{move_exc}")
            return
        self._problem(f"the journal was damaged ({exc}); kept as {aside.name}, "
                      "a new one was started")
