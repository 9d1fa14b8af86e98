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
from pgwatch_gui.core.pg.errors import route_reason
from pgwatch_gui.core.replication.publication import Setup, WatchPlan
from pgwatch_gui.core.replication.source import ChangeSource
from pgwatch_gui.core.stream.listener import Listener, Route
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
    # list[Event], one emission per batch. Declared `object`, not `list`: a `list` signal
    # converts every element through QVariant and back (801 ns per event against 3 ns,
    # measured on 1,000-event batches); `object` passes the list itself.
    events_arrived = Signal(object)
    status_changed = Signal(str, object)  # connection name, core Status
    connections_changed = Signal()
    colors_changed = Signal()  # a connection's colour (profile_color) changed

    def __init__(self, parent: QObject | None = None, *, max_backlog: int = 100_000) -> None:
        super().__init__(parent)
        self._listeners: dict[str, Listener] = {}
        # Closed but still stopping (a change stream drops its publication on the way
        # out): close_all waits for these too, so quitting never abandons one half-way.
        self._closing: dict[str, Listener] = {}
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

    def route(self, name: str) -> Route | None:
        """How connection `name` reaches its server (an SSH tunnel), None when direct."""
        lst = self.listener(name)
        return lst.route if lst else None

    def explain(self, name: str, reason: str) -> str:
        """`reason` a connection of `name` failed, naming its SSH tunnel when that is down
        (not the tunnel's local end, 127.0.0.1:port)."""
        return route_reason(self.route(name), reason)

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
    def open(self, name: str, conninfo: str, channels: Sequence[str] = (), *,
             route: Route | None = None) -> Listener:
        """Start listening on a connection; a name that is already open is refused.

        With a `route` (an SSH tunnel) the listener connects through it, and `conninfo`
        (what the console and other views of this connection use) follows the tunnel.
        """
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
            route=route,
        )
        self._listeners[name] = listener
        self._restarts[name] = 0
        self._start(name, listener)
        self.connections_changed.emit()
        return listener

    def open_changes(self, name: str, conninfo: str, setup: Setup,
                     plan: WatchPlan | None = None, *, route: Route | None = None
                     ) -> ChangeSource:
        """Start a row-change stream (a temporary replication slot) as one more connection.

        Its events, status and gap rows go where a listener's go; closing it drops the
        publication it created.
        """
        if name in self._listeners:
            raise ValueError(f"a connection named {name!r} is already open")
        source = ChangeSource(
            conninfo, plan, setup=setup, profile=name,
            on_batch=lambda batch: self._deliver(source, batch),
            on_status=partial(self._on_status, name),
            max_backlog=self._max_backlog, seq=self._seq, batch_interval=QUIET_INTERVAL,
            route=route,
        )
        self._listeners[name] = source  # type: ignore[assignment]  # the same face
        source.start()
        self.connections_changed.emit()
        return source

    def is_change_stream(self, name: str) -> bool:
        return isinstance(self._listeners.get(name), ChangeSource)

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
            self._closing[name] = listener
            try:
                await listener.stop()
            finally:
                self._closing.pop(name, None)
            self.connections_changed.emit()

    async def close_all(self) -> None:
        await asyncio.gather(*(self.close(n) for n in list(self._listeners)),
                             *(lst.stop() for lst in list(self._closing.values())),
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
        if isinstance(lst, ChangeSource):
            raise ValueError(f"{name} is a change stream: it has no channels to listen or "
                             "send on; use a listening connection")
        return lst

    def _deliver(self, listener: Listener, batch: list) -> None:
        listener.batch_interval = BUSY_INTERVAL if len(batch) >= BUSY_BATCH else QUIET_INTERVAL
        self.events_arrived.emit(batch)

    def _on_status(self, name: str, status: Status) -> None:
        self.status_changed.emit(name, status)
