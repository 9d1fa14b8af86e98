"""JournalLink: the hub's batches go to a core JournalWriter; its settings live in QSettings.

The slot only queues the batch (the writer's thread does the disk work). The writer
starts with the first batch, so a window that receives nothing opens no file. A
problem the writer meets (a damaged journal moved aside, a locked file, a full disk)
is shown in the status bar and kept in `last_problem`; a writer thread that died is
restarted once a second at most, and said so.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from pgwatch_gui.core.journal.store import (
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_BYTES,
    Retention,
    secure_data_dir,
)
from pgwatch_gui.core.journal.writer import JournalWriter

T = TypeVar("T")

KEY_ENABLED = "history/enabled"
KEY_MAX_MB = "history/max_mb"
KEY_MAX_DAYS = "history/max_days"


def _float(value, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class JournalLink(QObject):
    problem = Signal(str)  # one line, for the status bar
    enabled_changed = Signal(bool)

    def __init__(self, hub, parent: QObject | None = None, *, path: Path | None = None,
                 enabled: bool | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.path = path
        s = QSettings()
        self.max_mb = _float(s.value(KEY_MAX_MB), DEFAULT_MAX_BYTES / 1024**2)
        self.max_days = _float(s.value(KEY_MAX_DAYS), DEFAULT_MAX_AGE / 86400)
        saved_on = str(s.value(KEY_ENABLED, "true")).lower() not in ("false", "0")
        self.forced_off = enabled is False  # --no-journal: this run only, not saved
        self._enabled = saved_on and not self.forced_off
        self.writer: JournalWriter | None = None
        self.last_problem: str | None = None
        self._restarts = 0
        self.problem.connect(self._remember)
        self._watch = QTimer(self, interval=1000, timeout=self._supervise)
        hub.events_arrived.connect(self._on_batch)
        # On start, what an older version left 0644 in 0755 becomes ours alone (off the
        # GUI thread: it is file system work, however small).
        self.secured = threading.Thread(target=secure_data_dir,
                                        args=(self.journal_path().parent,),
                                        name="pgwatch-secure-data", daemon=True)
        self.secured.start()

    # ---- settings -------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def retention(self) -> Retention:
        return Retention(max_bytes=int(self.max_mb * 1024**2), max_age=self.max_days * 86400)

    def journal_path(self) -> Path:
        if self.path is not None:
            return self.path
        from pgwatch_gui.core.journal.store import default_path

        return default_path()

    def apply_settings(self, enabled: bool, max_mb: float, max_days: float) -> None:
        """From View > History settings: saved, and in effect at once."""
        self.max_mb, self.max_days = max(1.0, max_mb), max(0.01, max_days)
        s = QSettings()
        s.setValue(KEY_ENABLED, enabled)
        s.setValue(KEY_MAX_MB, self.max_mb)
        s.setValue(KEY_MAX_DAYS, self.max_days)
        self.forced_off = False
        if self.writer is not None:
            self.writer.set_retention(self.retention)
        if enabled != self._enabled:
            self._enabled = enabled
            if not enabled:
                self._stop_writer()
            self.enabled_changed.emit(enabled)

    # ---- the stream -----------------------------------------------------------------------

    def _on_batch(self, batch: list) -> None:
        if not self._enabled:
            return
        w = self.writer
        try:
            if w is None:
                w = self._start_writer()
            # A hub batch comes from one listener: one profile (ConnectionHub._deliver).
            w.submit(batch, one_profile=True)
        except Exception as exc:  # said, never silent; the table keeps its rows anyway
            self.problem.emit(f"events could not be queued for the journal: {exc}")

    def _start_writer(self) -> JournalWriter:
        self.writer = JournalWriter(self.path, retention=self.retention,
                                    on_problem=self.problem.emit).start()
        self._watch.start()
        return self.writer

    def _stop_writer(self) -> None:
        w, self.writer = self.writer, None
        self._watch.stop()
        if w is not None:
            w.close(timeout=5)

    def _supervise(self) -> None:
        w = self.writer
        if w is not None and not w.alive:
            self._restarts += 1
            self.problem.emit(f"the journal writer stopped ({w.error or 'no reason given'}); "
                              "started again")
            self.writer = None
            new = self._start_writer()
            for item in w.take_pending():
                new.submit_packed(item)

    def _remember(self, text: str) -> None:
        self.last_problem = text

    # ---- reading, off the event loop ------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        return self.writer.flush(timeout) if self.writer is not None else True

    async def read(self, fn: Callable[..., T], *args) -> T:
        """fn(*args) on a worker thread, after what is queued has been written."""

        def work():
            self.flush(2.0)
            return fn(*args)

        return await asyncio.to_thread(work)

    async def forget(self, *, profile: str | None = None, before: float | None = None,
                     everything: bool = False):
        """Clear history on disk (core/journal/forget.py) -> Forgotten. The running writer
        does it on its thread after writing what is queued (so nothing received before
        this call comes back); without one, a worker thread does."""
        from pgwatch_gui.core.journal.forget import forget_file

        w = self.writer
        if w is not None and w.alive:
            return await asyncio.wrap_future(
                w.forget(profile=profile, before=before, everything=everything))
        return await asyncio.to_thread(forget_file, self.journal_path(), profile=profile,
                                       before=before, everything=everything)

    async def shutdown(self) -> None:
        w, self.writer = self.writer, None
        # The window may be gone already (its C++ side deleted while the hub closed);
        # the writer is plain Python and still gets to write what is queued.
        with contextlib.suppress(RuntimeError):
            self._watch.stop()
        if w is not None:
            await asyncio.to_thread(w.close, 10)
