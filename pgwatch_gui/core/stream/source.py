"""What every event source shares (the notify Listener, the replication ChangeSource):
the batcher's counters, the task that runs the source, and how that task ends."""

from __future__ import annotations

import asyncio
import contextlib

from pgwatch_gui.core.stream.batching import Batcher


class EventSource:
    """A base: subclasses set `_batches`, `_task` and `max_attempts`, and define run()."""

    _batches: Batcher
    _task: asyncio.Task | None
    max_attempts: int | None

    async def run(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def received(self) -> int:
        return self._batches.received

    @property
    def dropped(self) -> int:
        return self._batches.dropped

    @property
    def backlog(self) -> int:
        return len(self._batches.backlog)

    @property
    def batch_interval(self) -> float:
        return self._batches.interval

    @batch_interval.setter
    def batch_interval(self, seconds: float) -> None:
        self._batches.interval = seconds

    def start(self) -> asyncio.Task:
        """Run in the background on the current loop; returns the task."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.run())
        return self._task

    def _out_of_attempts(self, attempt: int) -> bool:
        return self.max_attempts is not None and attempt > self.max_attempts

    async def _end_task(self, timeout: float) -> None:
        """After stop() asked the task to end: wait up to `timeout` s, else cancel it."""
        task = self._task
        if task is None or task.done() or task is asyncio.current_task():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
