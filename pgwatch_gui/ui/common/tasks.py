"""Running core coroutines from Qt slots on the qasync loop.

    self.work = AsyncWork(self)
    self.work.run(triggers.list_installed, conninfo, on_done=self.show, on_error=self.fail)

`run` opens a short-lived connection, awaits `fn(conn, *args)` and hands the result
(or a one-line error) back on the loop. Widgets stay responsive; nothing blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from PySide6.QtCore import QObject, Signal

from pgwatch_gui.core.pg.connection import connect
from pgwatch_gui.core.triggers.catalog import CatalogError, server_message
from pgwatch_gui.core.triggers.manage import TriggerError
from pgwatch_gui.core.triggers.spec import SpecError

EXPECTED_ERRORS = (TriggerError, CatalogError, SpecError, psycopg.Error, OSError,
                   asyncio.TimeoutError, ValueError)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        return server_message(exc)
    return str(exc) or exc.__class__.__name__


class AsyncWork(QObject):
    """Owns the tasks it starts; `busy_changed` tells a widget when to show it is working."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task] = set()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def spawn(self, coro: Awaitable[Any], on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None) -> asyncio.Task:
        async def wrapped():
            try:
                result = await coro
            except asyncio.CancelledError:
                raise
            except EXPECTED_ERRORS as exc:
                if on_error is not None:
                    on_error(error_text(exc))
                return None
            if on_done is not None:
                on_done(result)
            return result

        task = asyncio.ensure_future(wrapped())
        was_busy = self.busy
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def run(self, fn: Callable[..., Awaitable[Any]], conninfo: str, *args: Any,
            on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[str], None] | None = None) -> asyncio.Task:
        """Await fn(conn, *args) on a fresh autocommit connection to `conninfo`."""
        return self.spawn(with_connection(conninfo, fn, *args), on_done, on_error)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # An unexpected error: keep it visible in the log instead of losing it.
            loop = asyncio.get_event_loop()
            loop.call_exception_handler({"message": "pgwatch-gui task failed",
                                         "exception": task.exception(), "task": task})
        if not self._tasks:
            self.busy_changed.emit(False)

    async def wait(self) -> None:
        """Until every task started so far has finished (for tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_all(self) -> None:
        for t in list(self._tasks):
            t.cancel()


async def with_connection(conninfo: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    conn = await connect(conninfo)
    async with conn:
        return await fn(conn, *args)
