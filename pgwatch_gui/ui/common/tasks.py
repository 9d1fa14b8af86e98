"""The one task runner of the window: every background coroutine of the ui starts here.

    self.work = AsyncWork(self)
    self.work.run(triggers.list_installed, conninfo, on_done=self.show, on_error=self.fail)
    self.work.spawn(hub.close(name))
    self.work.supervise("demo writer", generator.run)

`run` opens a short-lived connection, awaits `fn(conn, *args)` and hands the result
(or a one-line error) back. `on_done` and `on_error` run *after* the task has ended,
from the loop itself, never inside the task: a callback may open a dialog without
stepping other tasks from inside this one.

`supervise` runs a long-lived coroutine (the demo writer, the queue monitor, ...): an
unexpected exception is logged with its traceback, announced on `task_failures()`
(the status bar shows it) and the coroutine is started again after a growing pause;
after `retries` quick failures in a row it is marked failed and stays stopped.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import shiboken6
from PySide6.QtCore import QObject, Signal

from pgwatch_gui.core.pg.connection import connect, one_line
from pgwatch_gui.core.triggers.catalog import CatalogError, server_message
from pgwatch_gui.core.triggers.plan import TriggerError
from pgwatch_gui.core.triggers.spec import SpecError

log = logging.getLogger("pgwatch_gui.tasks")

EXPECTED_ERRORS = (TriggerError, CatalogError, SpecError, psycopg.Error, OSError,
                   asyncio.TimeoutError, ValueError)
# A supervised task that ran this long before failing starts its backoff afresh.
HEALTHY_SECONDS = 60.0


def error_text(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        return server_message(exc)
    return str(exc) or exc.__class__.__name__


class TaskFailures(QObject):
    """Where supervised tasks report trouble: failed(task name, one line for the user)."""

    failed = Signal(str, str)
    recovered = Signal(str)


_failures: TaskFailures | None = None


def task_failures() -> TaskFailures:
    global _failures
    if _failures is None:
        _failures = TaskFailures()
    return _failures


class _Outcome:
    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: str | None = None) -> None:
        self.value = value
        self.error = error


class AsyncWork(QObject):
    """Owns the tasks it starts; `busy_changed` tells a widget when to show it is working
    (short tasks only: supervised ones do not count as busy)."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task] = set()
        self._long: set[asyncio.Task] = set()
        self.failed: dict[str, str] = {}  # supervised task name -> why it stopped for good

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def spawn(self, coro: Awaitable[Any], on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None) -> asyncio.Task:
        async def wrapped() -> _Outcome:
            try:
                return _Outcome(await coro)
            except EXPECTED_ERRORS as exc:
                return _Outcome(error=error_text(exc))

        task = asyncio.ensure_future(wrapped())
        was_busy = self.busy
        self._tasks.add(task)
        # Done callbacks run from the loop (call_soon) once the task has finished.
        task.add_done_callback(lambda t: self._finished(t, on_done, on_error, coro))
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def in_thread(self, fn: Callable[..., Any], *args: Any,
                  on_done: Callable[[Any], None] | None = None,
                  on_error: Callable[[str], None] | None = None) -> asyncio.Future:
        """Run a blocking fn(*args) (keyring, file I/O) in a worker thread. It starts at
        once, even before the loop runs (a window being built)."""
        loop = asyncio.get_event_loop()
        return self.spawn(loop.run_in_executor(None, functools.partial(fn, *args)),
                          on_done, on_error)

    def run(self, fn: Callable[..., Awaitable[Any]], conninfo: str, *args: Any,
            on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[str], None] | None = None) -> asyncio.Task:
        """Await fn(conn, *args) on a fresh autocommit connection to `conninfo`."""
        return self.spawn(with_connection(conninfo, fn, *args), on_done, on_error)

    def _finished(self, task: asyncio.Task, on_done, on_error, coro=None) -> None:
        self._tasks.discard(task)
        if task.cancelled() and inspect.iscoroutine(coro):
            coro.close()  # cancelled before it started: it was never awaited, and says so
        if not shiboken6.isValid(self):  # its widget is gone: nobody to hand results to
            if not task.cancelled():
                task.exception()  # retrieved: an error here has nobody left to tell
            return
        try:
            if task.cancelled():
                return
            exc = task.exception()
            if exc is not None:
                # An unexpected error: the loop's handler logs it with its traceback.
                asyncio.get_event_loop().call_exception_handler(
                    {"message": "pgwatch-gui task failed", "exception": exc, "task": task})
                task_failures().failed.emit("", f"Unexpected error: {one_line(exc)}")
                return
            outcome: _Outcome = task.result()
            if outcome.error is not None:
                if on_error is not None:
                    on_error(outcome.error)
            elif on_done is not None:
                on_done(outcome.value)
        finally:
            if not self._tasks:
                self.busy_changed.emit(False)

    # ---- long-lived tasks ------------------------------------------------------------

    def supervise(self, name: str, factory: Callable[[], Awaitable[Any]], *,
                  retries: int = 5, backoff: float = 1.0, max_backoff: float = 30.0,
                  on_failed: Callable[[str], None] | None = None) -> asyncio.Task:
        """Run factory() until it returns; restart it after an unexpected exception."""
        self.failed.pop(name, None)
        task = asyncio.ensure_future(
            self._supervised(name, factory, retries, backoff, max_backoff, on_failed))
        self._long.add(task)
        task.add_done_callback(self._long.discard)
        return task

    async def _supervised(self, name, factory, retries, backoff, max_backoff,
                          on_failed) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        delay = backoff
        while True:
            started = loop.time()
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                text = one_line(exc)
                log.error("%s failed", name, exc_info=exc)
                if loop.time() - started >= HEALTHY_SECONDS:
                    failures, delay = 0, backoff
                failures += 1
                if failures > retries:
                    self.failed[name] = text
                    task_failures().failed.emit(name, f"{name} stopped: {text}")
                    if on_failed is not None:
                        on_failed(text)
                    return
                task_failures().failed.emit(
                    name, f"{name} failed ({text}); restarting in {delay:g} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_backoff)
                task_failures().recovered.emit(name)

    # ---- shutdown ------------------------------------------------------------------

    async def wait(self) -> None:
        """Until every short task started so far has finished (for tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_all(self) -> None:
        for t in list(self._tasks) + list(self._long):
            t.cancel()

    async def stop(self, timeout: float = 2.0) -> None:
        """Cancel everything and wait (at most `timeout`) for it to end."""
        tasks = list(self._tasks) + list(self._long)
        self.cancel_all()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)


async def with_connection(conninfo: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    conn = await connect(conninfo)
    async with conn:
        return await fn(conn, *args)
