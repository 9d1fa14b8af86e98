"""Garbage-collector policy for a window that holds 100,000 live Events.

Events leave memory by reference counting when the ring drops them and form no
cycles, so the cyclic collector never finds garbage among them; yet every collection
walks them: measured here with a full ring, a full collection paused the loop for
100-130 ms and young collections for up to 40 ms (under churn the collector's
allocation count is net of frees, so the young generation grows far past its
threshold before a collection starts). While the loop is paused the listener does
not read. So:

- whatever exists once the window is built is frozen (never scanned again);
- while events stream in, what is new is frozen every FREEZE_MS (gc.freeze() is O(1)),
  so collections only ever scan a fraction of a second's worth of objects;
- a full collection (unfreeze, collect, freeze) runs only when the stream is quiet
  (under QUIET_RATE events/s), at most every FULL_EVERY seconds, and at the latest
  after FULL_AT_LATEST seconds whatever the stream does, so cyclic garbage made by
  other code is reclaimed;
- memory the process frees goes back to the system (glibc): blocks of MMAP_THRESHOLD
  and more are mapped on their own and unmapped when freed (malloc's own threshold
  otherwise rises to the largest block freed, up to 32 MB, and keeps them in its heap),
  and the heap is trimmed every TRIM_EVERY seconds while events stream in and once
  more when they stop (a trim takes well under 2 ms; without them the C heap kept
  about 14 MB after 1,000,000 events). The policy looks every TICK_MS, so a burst's
  freed memory goes back within about 0.1 s of its end (at a 200 ms look, RSS read
  0.2 s after 1,000,000 events still held 25 MB of it).

  The threshold is 4 MB, not 128 kB: a journal block's payloads (about 400 kB for 2,000
  notifications, joined on the event loop, copied by SQLite on the writer's thread)
  then come from the heap, where the memory of the last ones is reused, instead of a
  fresh mapping each, faulted in page by page and unmapped again (with a TLB flush on
  the other core): 5 % of the window's CPU per notification (bench_ingest's drain,
  both threads), and RSS after 1,000,000 events the same (the trims give it back).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from pgwatch_gui.core.host import memory

THRESHOLDS = (10_000, 10, 1_000_000)  # generation 2 only by hand
TICK_MS = 50  # how often the policy looks (a Python call: nothing at 20 a second)
FREEZE_MS = 200
FREEZE_AFTER_EVENTS = 2_000
QUIET_RATE = 500.0
FULL_EVERY = 60.0
FULL_AT_LATEST = 600.0
TRIM_EVERY = 0.5

MMAP_THRESHOLD = 4 * 1024 * 1024  # see above


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's malloc_trim(0), where there is one; large blocks mapped on their own."""
    if not memory.can_trim():
        return None
    memory.set_mmap_threshold(MMAP_THRESHOLD)  # fixed: no longer raised by frees
    return memory.malloc_trim


class GcPolicy(QObject):
    def __init__(self, parent: QObject, events_total: Callable[[], int]) -> None:
        super().__init__(parent)
        self._total = events_total
        self._previous = gc.get_threshold()
        self.full_collections = 0
        self.freezes = 0
        self._full()
        gc.set_threshold(*THRESHOLDS)
        self._frozen_at = events_total()
        self._frozen_t = 0.0  # when gc.freeze() last ran on the way (not _full)
        self._rate_mark = (time.monotonic(), self._frozen_at)
        self.rate = 0.0
        self._trim = _malloc_trim()
        self._trimmed = (time.monotonic(), self._frozen_at)
        self._last_total = self._frozen_at
        self.trims = 0
        self.timer = QTimer(self, interval=TICK_MS, timeout=self.tick)
        self.timer.start()

    def _full(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.full_collections += 1
        self.last_full = time.monotonic()

    def tick(self) -> None:
        now = time.monotonic()
        total = self._total()
        if total - self._frozen_at >= FREEZE_AFTER_EVENTS and \
                now - self._frozen_t >= FREEZE_MS / 1000:
            gc.freeze()
            self.freezes += 1
            self._frozen_at = total
            self._frozen_t = now
        t_trim, n_trim = self._trimmed
        if self._trim is not None and total != n_trim and (
                now - t_trim >= TRIM_EVERY or total == self._last_total):  # or it stopped
            self._trim()
            self.trims += 1
            self._trimmed = (now, total)
        self._last_total = total
        t0, n0 = self._rate_mark
        if now - t0 >= 5.0:
            self.rate = (total - n0) / (now - t0)
            self._rate_mark = (now, total)
            since = now - self.last_full
            if (since >= FULL_EVERY and self.rate < QUIET_RATE) or since >= FULL_AT_LATEST:
                self._full()

    def uninstall(self) -> None:
        self.timer.stop()
        gc.unfreeze()
        gc.set_threshold(*self._previous)


def install(parent: QObject, events_total: Callable[[], int]) -> GcPolicy:
    return GcPolicy(parent, events_total)
