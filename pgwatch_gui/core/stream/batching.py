"""Batching: events wait in a bounded backlog and go to the consumer a batch at a time.

The first event after a quiet spell goes out at once (on the next loop turn, together
with whatever arrived in the same packet); while the stream is busy at most one batch per
`interval`. A consumer that returns an awaitable gets the next batch only once it is
done; meanwhile events keep arriving, and past `max_backlog` the oldest are dropped and
counted, so the reader never waits for the consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import deque
from collections.abc import Awaitable, Callable

from pgwatch_gui.core.stream.events import Event

# A batch holds Events; a raw reader's (listen's) also chunks.NotifyChunk.
BatchConsumer = Callable[[list[Event]], "Awaitable[None] | None"]


class Batcher:
    def __init__(self, on_batch: BatchConsumer, *, max_backlog: int = 100_000,
                 interval: float = 0.016) -> None:
        self._on_batch = on_batch
        self.interval = interval
        self.backlog: deque[Event] = deque(maxlen=max_backlog)
        self.received = 0
        self.dropped = 0
        self._flush_handle: asyncio.Handle | None = None
        self._last_flush = 0.0
        self._delivering: asyncio.Task | None = None

    def add(self, ev: Event) -> None:
        """One event in (the reader's hot path appends to `backlog` and calls `added`).
        A notification counts as received here too (one this session sent comes back
        this way, read during its NOTIFY); a gap marker does not."""
        backlog = self.backlog
        if len(backlog) == backlog.maxlen:
            self.dropped += 1
        if not ev.is_gap:
            self.received += 1
        backlog.append(ev)
        if self._flush_handle is None:
            self._schedule_flush()

    def added(self, before: int, count: int) -> None:
        """`count` events were appended to `backlog`, which held `before`."""
        maxlen = self.backlog.maxlen or 0
        if before + count > maxlen:  # the deque let the oldest go
            self.dropped += before + count - maxlen
        self.received += count
        if self._flush_handle is None:
            self._schedule_flush()

    def added_chunk(self, before: int, count: int) -> None:
        """One chunk of `count` notifications (chunks.NotifyChunk) was appended to
        `backlog`, which held `before` items. (A chunk the deque let go is counted as
        `count` dropped: chunks of one reader are about the same size.)"""
        maxlen = self.backlog.maxlen or 0
        if before + 1 > maxlen:
            self.dropped += count
        self.received += count
        if self._flush_handle is None:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._last_flush + self.interval - loop.time()
        if delay <= 0:
            self._flush_handle = loop.call_soon(self.flush)
        else:
            self._flush_handle = loop.call_later(delay, self.flush)

    def flush(self) -> None:
        """Hand the consumer what waits, unless it is still busy with the last batch."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self.backlog or (self._delivering is not None and not self._delivering.done()):
            return
        with contextlib.suppress(RuntimeError):
            self._last_flush = asyncio.get_running_loop().time()
        batch = list(self.backlog)
        self.backlog.clear()
        result = self._on_batch(batch)
        if inspect.isawaitable(result):
            self._delivering = asyncio.ensure_future(result)
            self._delivering.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task) -> None:
        self._delivering = None
        if self.backlog and self._flush_handle is None:
            self._schedule_flush()

    async def drain(self, timeout: float = 5.0) -> None:
        """Hand the consumer what is still waiting (an async consumer may be mid-batch)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._delivering is not None or self.backlog:
            if self._delivering is not None:
                left = deadline - asyncio.get_running_loop().time()
                try:
                    await asyncio.wait_for(asyncio.shield(self._delivering), max(left, 0))
                except asyncio.TimeoutError:
                    return
                except Exception:  # the consumer's own error: not ours to raise here
                    pass
                self._delivering = None
            self.flush()
