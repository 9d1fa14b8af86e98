"""Events to a consumer in batches, as the Listener hands them over (see core/listener.py).

The first event after a quiet spell goes out on the next loop turn; while the
stream is busy at most one batch per `interval`. The backlog is bounded: past
`max_backlog` the oldest events are dropped and counted, and reading never waits
for a slow consumer. An async consumer gets the next batch when it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import deque

from pgwatch_gui.core.events import Event
from pgwatch_gui.core.listener import BatchConsumer


class Batcher:
    def __init__(self, consumer: BatchConsumer, max_backlog: int, interval: float) -> None:
        self.consumer = consumer
        self.interval = interval
        self.backlog: deque[Event] = deque(maxlen=max_backlog)
        self.received = 0
        self.dropped = 0
        self._handle: asyncio.Handle | None = None
        self._last = 0.0
        self._delivering: asyncio.Future | None = None

    def put(self, ev: Event) -> None:
        self.put_many([ev])

    def put_many(self, events: list[Event]) -> None:
        backlog = self.backlog
        over = len(backlog) + len(events) - (backlog.maxlen or 0)
        if over > 0:
            self.dropped += over
        backlog.extend(events)
        self.received += len(events)
        if self._handle is None:
            self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._last + self.interval - loop.time()
        if delay <= 0:
            self._handle = loop.call_soon(self.flush)
        else:
            self._handle = loop.call_later(delay, self.flush)

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not self.backlog or (self._delivering is not None and not self._delivering.done()):
            return
        with contextlib.suppress(RuntimeError):
            self._last = asyncio.get_running_loop().time()
        batch = list(self.backlog)
        self.backlog.clear()
        result = self.consumer(batch)
        if inspect.isawaitable(result):
            self._delivering = asyncio.ensure_future(result)
            self._delivering.add_done_callback(self._delivered)

    def _delivered(self, _task: asyncio.Future) -> None:
        self._delivering = None
        if self.backlog and self._handle is None:
            self._schedule()

    async def drain(self, timeout: float = 5.0) -> None:
        """Hand the consumer what is still waiting (an async consumer may be mid-batch)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._delivering is not None or self.backlog:
            if self._delivering is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(self._delivering),
                                           max(deadline - loop.time(), 0))
                except asyncio.TimeoutError:
                    return
                except Exception:  # the consumer's own error: not ours to raise here
                    pass
                self._delivering = None
            self.flush()
