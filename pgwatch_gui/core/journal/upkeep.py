"""What the journal writer does between writes (writer.py): memory a burst freed given back,
the WAL copied into the database file, retention applied, and when it looks next.

Copying the WAL into the database file (a checkpoint) is most of the writing's CPU after
the insert itself; during a burst it waits (the WAL keeps everything safe), and runs once
the stream is calm, or when the WAL has grown large. Once a burst has been written, the
memory it freed goes back to the system (core/host/memory.py): its blocks are freed by
the writer, after the window's own trim at the end of the burst (ui/shell/gc_policy.py),
and would otherwise stay in the heap (25 MB after a burst of 500,000 a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pgwatch_gui.core.host import memory

CALM_WRITE = 2_000  # a write of fewer events (200 ms of 10,000/s): the stream is calm
CHECKPOINT_EVENTS = 300_000  # checkpoint at the latest after this many (about 60 MB)
RETENTION_INTERVAL = 60.0
TRIM_AFTER = 10_000  # events written since the last trim before a calm write trims
QUICK_LOOK = 0.02  # seconds to the next look after a large write that emptied the queue


class Upkeep:
    """The writer's counters since its last checkpoint, trim and retention, and its
    next wait. Used on the writer's thread only."""

    def __init__(self, interval: float, retention_interval: float = RETENTION_INTERVAL) -> None:
        self.interval = interval
        self.retention_interval = retention_interval
        self.unchecked = 0  # events written since the last checkpoint
        self.untrimmed = 0  # events written since memory was last given back
        self.trims = 0
        self.last_retention = 0.0
        self.next_wait = interval

    def after_write(self, n: int, queued: bool, checkpoint: Callable[[], bool],
                    retain: Callable[[], None]) -> None:
        """After a step that wrote `n` events (0: none) and left `queued` more:
        `checkpoint()` (True when it ran) and `retain()` when due."""
        calm = n < CALM_WRITE and not queued
        self.unchecked += n
        self.untrimmed += n
        if calm and self.untrimmed >= TRIM_AFTER:
            self.untrimmed = 0
            if memory.malloc_trim():
                self.trims += 1
        if self.unchecked and (calm or self.unchecked >= CHECKPOINT_EVENTS) and checkpoint():
            self.unchecked = 0
        # A large write that left nothing queued may have been a burst's last: look again
        # soon, so that its end (a calm step) gives the memory back within ~20 ms, not
        # after a whole interval. During a burst the next look finds a large write again.
        quick = n >= CALM_WRITE and not queued
        self.next_wait = min(self.interval, QUICK_LOOK) if quick else self.interval
        now = time.monotonic()
        if now - self.last_retention >= self.retention_interval:
            self.last_retention = now
            retain()
