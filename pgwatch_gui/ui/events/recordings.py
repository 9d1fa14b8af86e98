"""Export rows to JSON Lines / CSV and open a JSON Lines recording, a chunk per loop turn.

Writing or reading 100,000 rows takes a second or two; done in one go it would stop
the event loop, and with it the listener, which must never stop reading. So both go
a chunk at a time with `await asyncio.sleep(0)` between chunks, behind a progress
dialog that can cancel.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.core.stream.export import EventWriter, format_for_path
from pgwatch_gui.core.stream.recording import JsonlReader
from pgwatch_gui.ui.common.dialogs import warn
from pgwatch_gui.ui.common.wording import counted

CHUNK = 2000
PROGRESS_FROM = 5000  # show a progress dialog for more rows than this
FILE_FILTERS = "JSON Lines (*.jsonl *.ndjson);;CSV (*.csv)"
OPEN_FILTERS = "JSON Lines (*.jsonl *.ndjson *.json);;All files (*)"

Progress = Callable[[int, int], bool]  # (done, total) -> keep going?


@dataclass
class LoadResult:
    events: list[Event] = field(default_factory=list)
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    cancelled: bool = False


async def export_to_path(events: Sequence[Event], path: str, fmt: str | None = None,
                         progress: Progress | None = None) -> int:
    """Write events to path (format from the extension unless given); returns rows written.

    Writes to a temporary file next to it and renames at the end, so a cancelled or failed
    export never leaves half a file under the chosen name.
    """
    fmt = fmt or format_for_path(path)
    tmp = f"{path}.part"
    total = len(events)
    written = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            w = EventWriter(out, fmt)
            for a in range(0, total, CHUNK):
                written += w.write(events[a:a + CHUNK])
                if progress is not None and not progress(written, total):
                    raise asyncio.CancelledError
                await asyncio.sleep(0)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return written


async def load_recording(path: str, progress: Progress | None = None) -> LoadResult:
    size = max(1, os.path.getsize(path))
    res = LoadResult()
    with open(path, encoding="utf-8", errors="replace") as src:
        reader = JsonlReader(src)
        while not reader.done:
            res.events.extend(reader.read(CHUNK))
            if progress is not None and not progress(src.buffer.tell() if hasattr(src, "buffer")
                                                     else 0, size):
                res.cancelled = True
                break
            await asyncio.sleep(0)
        res.skipped = reader.skipped
        res.errors = reader.errors
    return res


class _ProgressDialog:
    def __init__(self, parent: QWidget, label: str, total: int, show: bool) -> None:
        self.dialog: QProgressDialog | None = None
        if show:
            d = QProgressDialog(label, "Cancel", 0, 1000, parent)
            # Not modal: a modal progress dialog runs processEvents() in setValue(),
            # an event loop nested inside the task that reports progress.
            d.setWindowModality(Qt.WindowModality.NonModal)
            d.setMinimumDuration(300)
            d.setAutoClose(False)
            d.setAutoReset(False)
            self.dialog = d

    def __call__(self, done: int, total: int) -> bool:
        d = self.dialog
        if d is None:
            return True
        d.setValue(int(1000 * done / max(1, total)))
        return not d.wasCanceled()

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()


def ask_export_path(parent: QWidget, title: str, suggested: str = "events.jsonl") -> str | None:
    path, chosen = QFileDialog.getSaveFileName(parent, title, suggested, FILE_FILTERS)
    if not path:
        return None
    if "." not in os.path.basename(path):
        path += ".csv" if chosen.startswith("CSV") else ".jsonl"
    return path


async def export_with_dialog(parent: QWidget, events: Sequence[Event], path: str,
                             notify: Callable[[str], None]) -> int:
    prog = _ProgressDialog(parent, f"Exporting {counted(len(events), 'row')}…", len(events),
                           len(events) > PROGRESS_FROM)
    try:
        n = await export_to_path(list(events), path, progress=prog)
    except asyncio.CancelledError:
        notify("Export cancelled.")
        return 0
    except OSError as exc:
        warn(parent, "Export", f"Could not write {path}: {exc.strerror or exc}")
        return 0
    finally:
        prog.close()
    notify(f"Exported {counted(n, 'row')} to {path}.")
    return n


async def open_with_dialog(parent: QWidget, path: str) -> LoadResult | None:
    size = os.path.getsize(path) if os.path.exists(path) else 0
    prog = _ProgressDialog(parent, f"Opening {os.path.basename(path)}…", size,
                           size > 2_000_000)
    try:
        res = await load_recording(path, progress=prog)
    except OSError as exc:
        warn(parent, "Open recording",
             f"Could not read {path}: {exc.strerror or exc}")
        return None
    finally:
        prog.close()
    return res


class RecordingReview:
    """A recording shown in the live table, and the live rows put back exactly afterwards.

    Opening a recording keeps the live rows aside (the same Events, in order, with the
    table's counters) and pauses the live view: what arrives meanwhile waits, as on Pause.
    *Resume* (back_to_live) puts the live rows back, then the waiting ones after them, so
    recorded and live rows never mix. Clearing the table forgets both.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.path: str | None = None
        self._live: list[Event] | None = None
        self._counters = (0, 0)

    @property
    def active(self) -> bool:
        return self._live is not None

    def show(self, path: str, events: list[Event]) -> int:
        """Show the recording (live rows kept aside the first time); how many did not fit."""
        m = self.model
        if self._live is None:
            self._live = m.all_events()
            self._counters = (m.evicted, m.dropped_while_paused)
        m.set_paused(True)
        dropped = m.dropped_while_paused
        over = m.load_events(events)
        m.dropped_while_paused = dropped  # what overflowed while paused still counts
        self.path = path
        return over

    def back_to_live(self) -> bool:
        """Put the live rows back (before the waiting ones are let in). False: nothing to do."""
        if self._live is None:
            return False
        live, self._live = self._live, None
        m = self.model
        dropped = m.dropped_while_paused
        m.load_events(live)
        m.evicted, m.dropped_while_paused = self._counters[0], dropped
        self.path = None
        return True

    def forget(self) -> None:
        self._live = None
        self.path = None
