"""ConnectionHub: the Qt face of the core listeners, one per open connection.

Events reach the UI through one `events_arrived` emission per batch (never one
signal per notification); status changes through `status_changed`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor

from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.stream.listener import Listener
from pgwatch_gui.core.stream.status import State, Status
from pgwatch_gui.ui.common.tasks import task_failures

log = logging.getLogger(__name__)

# Batching per connection, adapted to the stream: while batches are small (a moderate
# stream) one goes out every 4 ms, so a notification reaches the model within ~10 ms;
# once a batch holds BUSY_BATCH events, every 16 ms, fewer and larger batches. The
# table repaints on its own throttle, not per batch.
QUIET_INTERVAL = 0.004
BUSY_INTERVAL = 0.016
BUSY_BATCH = 256
# A listener task that dies of an unexpected error is started again after 1, 2, 4...
# seconds, at most LISTENER_RESTARTS times in a row; then it is marked failed.
LISTENER_RESTARTS = 5


class ConnectionHub(QObject):
    events_arrived = Signal(list)  # list[Event], one emission per batch
    status_changed = Signal(str, object)  # connection name, core Status
    connections_changed = Signal()
    colors_changed = Signal()  # a connection's colour (profile_color) changed

    def __init__(self, parent: QObject | None = None, *, max_backlog: int = 100_000) -> None:
        super().__init__(parent)
        self._listeners: dict[str, Listener] = {}
        self._seq = itertools.count(1)  # one sequence across all connections
        self._max_backlog = max_backlog
        self._colors: dict[str, QColor] = {}
        self._restarts: dict[str, int] = {}  # listener restarts in a row, per connection

    # ---- queries ----
    def names(self) -> list[str]:
        return list(self._listeners)

    def listener(self, name: str) -> Listener | None:
        return self._listeners.get(name)

    def status(self, name: str) -> Status | None:
        lst = self._listeners.get(name)
        return lst.status if lst else None

    def conninfo(self, name: str) -> str | None:
        lst = self._listeners.get(name)
        return lst.conninfo if lst else None

    def is_listening(self, name: str) -> bool:
        st = self.status(name)
        return st is not None and st.state is State.LISTENING

    def profile_color(self, name: str) -> QColor | None:
        """The colour events of connection `name` are marked with (None: no colour)."""
        return self._colors.get(name)

    def profile_colors(self) -> dict[str, QColor]:
        return dict(self._colors)

    def set_profile_colors(self, colors: dict[str, str]) -> None:
        """Name -> "#rrggbb" for every connection that has a colour (replaces all)."""
        new = {n: QColor(c) for n, c in colors.items() if c and QColor(c).isValid()}
        if {n: c.name() for n, c in new.items()} != {n: c.name() for n, c in self._colors.items()}:
            self._colors = new
            self.colors_changed.emit()

    # ---- actions ----
    def open(self, name: str, conninfo: str, channels: Sequence[str] = ()) -> Listener:
        """Start listening on a connection; a name that is already open is refused."""
        if name in self._listeners:
            raise ValueError(f"a connection named {name!r} is already open")
        listener = Listener(
            conninfo,
            channels,
            profile=name,
            on_batch=lambda batch: self._deliver(listener, batch),
            on_status=partial(self._on_status, name),
            max_backlog=self._max_backlog,
            seq=self._seq,
            batch_interval=QUIET_INTERVAL,
        )
        self._listeners[name] = listener
        self._restarts[name] = 0
        self._start(name, listener)
        self.connections_changed.emit()
        return listener

    def _start(self, name: str, listener: Listener) -> None:
        listener.start().add_done_callback(partial(self._listener_ended, name, listener))

    def _listener_ended(self, name: str, listener: Listener, task: asyncio.Task) -> None:
        """Supervision: the listener's own loop handles the connection's errors; anything
        else that ends its task is logged, shown, and the listener started again."""
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        log.error("listener %s failed", name, exc_info=exc)
        if self._listeners.get(name) is not listener:
            return  # closed meanwhile
        n = self._restarts.get(name, 0) + 1
        self._restarts[name] = n
        if n > LISTENER_RESTARTS:
            text = f"{name}: listener stopped after an internal error: {one_line(exc)}"
            task_failures().failed.emit(name, text)
            listener.mark_failed(text)
            return
        delay = 2 ** (n - 1)
        task_failures().failed.emit(
            name, f"{name}: listener failed ({one_line(exc)}); restarting in {delay} s")
        QTimer.singleShot(int(delay * 1000), lambda: self._restart(name, listener))

    def _restart(self, name: str, listener: Listener) -> None:
        if self._listeners.get(name) is listener:
            self._start(name, listener)

    async def close(self, name: str) -> None:
        listener = self._listeners.pop(name, None)
        if listener is not None:
            await listener.stop()
            self.connections_changed.emit()

    async def close_all(self) -> None:
        await asyncio.gather(*(self.close(n) for n in list(self._listeners)),
                             return_exceptions=True)

    async def listen(self, name: str, channel: str) -> None:
        await self._require(name).listen(channel)

    async def unlisten(self, name: str, channel: str) -> None:
        await self._require(name).unlisten(channel)

    async def notify(self, name: str, channel: str, payload: str) -> None:
        await self._require(name).notify(channel, payload)

    def _require(self, name: str) -> Listener:
        lst = self._listeners.get(name)
        if lst is None:
            raise KeyError(f"no open connection named {name!r}")
        return lst

    def _deliver(self, listener: Listener, batch: list) -> None:
        listener.batch_interval = BUSY_INTERVAL if len(batch) >= BUSY_BATCH else QUIET_INTERVAL
        self.events_arrived.emit(batch)

    def _on_status(self, name: str, status: Status) -> None:
        self.status_changed.emit(name, status)
