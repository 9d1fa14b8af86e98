"""The status bar: per connection its state, rate and total; the table's counts; the
server's notification queue usage, read every few seconds on a connection of its own."""

from __future__ import annotations

import asyncio
import contextlib
import time

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStatusBar, QWidget

from pgwatch_gui.core.pg.connection import connect, one_line
from pgwatch_gui.core.pg.server_facts import (
    QUEUE_WARN,
    describe_queue_usage,
    notification_queue_usage,
)
from pgwatch_gui.core.stream.status import State, Status
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.events.model import EventTableModel

QUEUE_POLL_SECONDS = 5.0
CHANNELS_SHOWN_CHARS = 60  # longer lists of channels are cut in the bar (whole in the tip)
STATE_COLORS = {State.LISTENING: "#1a7f37", State.RECONNECTING: "#bf8700",
                State.CONNECTING: "#bf8700", State.FAILED: "#cf222e"}


def _plain(parent=None) -> QLabel:
    lab = QLabel(parent)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    lab.setContentsMargins(10, 0, 6, 0)
    return lab


class ElidedLabel(QLabel):
    """Plain text that gives way when the bar is short of room: cut in the middle with
    "…" at the width it gets (the whole text is in the tooltip), never pushed out of
    sight. In the middle: libpq says where first and why last, and both matter."""

    MIN_WIDTH = 160

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setContentsMargins(10, 0, 6, 0)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.full_text = ""

    def set_full_text(self, text: str) -> None:
        if text != self.full_text:
            self.full_text = text
            self.updateGeometry()
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.full_text if width <= 1 or not self.isVisible() else \
            self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, width)
        if shown != self.text():
            self.setText(shown)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def sizeHint(self) -> QSize:
        m = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self.full_text) + m.left() + m.right() + 2
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(min(self.MIN_WIDTH, self.sizeHint().width()),
                     super().minimumSizeHint().height())


class QueueMonitor(QObject):
    """Polls pg_notification_queue_usage() for every open connection of the hub.

    Each connection keeps one connection of its own for this (never the listening one);
    a QTimer starts a poll every `interval` seconds, no long asyncio sleeps are left
    behind when the window closes.
    """

    usage_changed = Signal(str, object, str)  # name, usage (float or None), error text

    def __init__(self, hub: ConnectionHub, interval: float = QUEUE_POLL_SECONDS,
                 parent=None) -> None:
        super().__init__(parent)
        self.hub = hub
        self._conns: dict[str, object] = {}  # name -> AsyncConnection
        self._running: dict[str, asyncio.Task] = {}
        self.usage: dict[str, float] = {}
        self.errors: dict[str, str] = {}
        self._timer = QTimer(self, timeout=self.poll_all)
        self.interval = interval
        hub.connections_changed.connect(self.sync)

    @property
    def interval(self) -> float:
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._interval = seconds
        self._timer.setInterval(max(50, int(seconds * 1000)))

    def sync(self) -> None:
        names = set(self.hub.names())
        for name in list(self.usage) + list(self.errors) + list(self._conns):
            if name not in names:
                self.usage.pop(name, None)
                self.errors.pop(name, None)
                self._close_later(name)
        if names and not self._timer.isActive():
            self._timer.start()
            self.poll_all()
        elif not names:
            self._timer.stop()

    def poll_all(self) -> None:
        for name in self.hub.names():
            st = self.hub.status(name)
            if st is not None and st.state in (State.FAILED, State.STOPPED):
                # Its listener failed (a bad password...): no login every few seconds.
                self.usage.pop(name, None)
                continue
            task = self._running.get(name)
            if task is None or task.done():
                try:
                    self._running[name] = asyncio.ensure_future(self._poll(name))
                except RuntimeError:  # no running loop (a test without qasync)
                    return

    async def _poll(self, name: str) -> None:
        conninfo = self.hub.conninfo(name)
        if conninfo is None:
            return
        conn = self._conns.get(name)
        try:
            if conn is None or conn.closed:  # type: ignore[attr-defined]
                conn = await connect(conninfo, connect_timeout=5)
                self._conns[name] = conn
            usage = await notification_queue_usage(conn)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure: show it, try again at the next tick
            self.errors[name] = self.hub.explain(name, one_line(exc))
            self.usage.pop(name, None)
            self.usage_changed.emit(name, None, self.errors[name])
            await self._close(name)
        else:
            if name in self.hub.names():
                self.errors.pop(name, None)
                self.usage[name] = usage
                self.usage_changed.emit(name, usage, "")

    async def _close(self, name: str) -> None:
        conn = self._conns.pop(name, None)
        if conn is not None:
            with contextlib.suppress(BaseException):
                await conn.close()  # type: ignore[attr-defined]

    def _close_later(self, name: str) -> None:
        task = self._running.pop(name, None)
        if task is not None:
            task.cancel()
        if name in self._conns:
            with contextlib.suppress(RuntimeError):
                self._running[name] = asyncio.ensure_future(self._close(name))

    async def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # the window may already be gone
            self._timer.stop()
        tasks = list(self._running.values())
        self._running.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
        for name in list(self._conns):
            await self._close(name)


class ConnectionStatus(QWidget):
    """● name  state · 12/s · 1,234 received"""

    def __init__(self, name: str, parent=None) -> None:
        super().__init__(parent)
        self.name = name
        self.dot = QLabel("●", self)
        self.text = ElidedLabel(self)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 8, 0)
        lay.setSpacing(4)
        lay.addWidget(self.dot)
        lay.addWidget(self.text)
        self.status: Status | None = None
        self.rate = 0.0
        self.received = 0
        self.dropped = 0
        self._reconnect_until = 0.0

    def set_status(self, st: Status) -> None:
        self.status = st
        self._reconnect_until = time.monotonic() + st.delay if st.state is State.RECONNECTING \
            else 0.0
        self.dot.setStyleSheet(f"color: {STATE_COLORS.get(st.state, '#6e7781')};")
        self.refresh()

    def describe_state(self) -> str:
        st = self.status
        if st is None:
            return "starting"
        if st.state is State.RECONNECTING:
            left = max(0.0, self._reconnect_until - time.monotonic())
            return f"reconnecting in {left:.0f} s (attempt {st.attempt})"
        if st.state is State.LISTENING and len(", ".join(st.channels)) > CHANNELS_SHOWN_CHARS:
            # the status bar has room for a few names; the tooltip lists every one
            shown = ""
            for i, name in enumerate(st.channels):
                more = f", … (+{len(st.channels) - i})"
                if len(shown) + len(name) + len(more) > CHANNELS_SHOWN_CHARS and shown:
                    return f"listening on {len(st.channels)} channels: {shown}{more}"
                shown = f"{shown}, {name}" if shown else name
        return st.describe()

    def refresh(self) -> None:
        parts = [self.name, self.describe_state()]
        if self.status is not None and self.status.state is State.LISTENING:
            parts.append(f"{self.rate:,.0f}/s")
        parts.append(f"{self.received:,} received")
        if self.dropped:
            parts.append(f"{self.dropped:,} dropped by the reader")
        if self.status is not None and self.status.state is State.RECONNECTING \
                and self.status.reason:
            # Why, last: cut to the room there is (whole in the tooltip).
            parts.append(self.status.reason)
        text = " · ".join(parts[1:])
        self.text.set_full_text(f"{parts[0]}  {text}")
        st = self.status
        if st is not None and hasattr(st, "details"):
            # A change stream: its publication, slot and last commit's latency.
            tip = [f"{self.name}: {st.details()}"]
        elif st is not None and st.state is State.LISTENING and st.channels:
            n = len(st.channels)
            tip = [f"{self.name}: listening on {n} {'channel' if n == 1 else 'channels'}:"]
            tip += [f"  {name}" for name in st.channels]
        else:
            tip = [f"{self.name}: {st.describe() if st else 'starting'}"]
        if st is not None and st.pid:
            tip.append(f"listening backend pid {st.pid}")
        if st is not None and st.reason and st.state is not State.FAILED:
            tip.append(f"last error: {st.reason}")
        if st is not None and st.auth_failed:
            tip.append("The server refused the login: no more tries until a password is "
                       "given (Profiles) or the connection is opened again.")
        self.setToolTip("\n".join(tip))


class StatusPanel(QObject):
    """Owns the status bar widgets; refreshes them once a second."""

    def __init__(self, status_bar: QStatusBar, hub: ConnectionHub, model: EventTableModel,
                 parent=None, *, poll_queue: bool = True) -> None:
        super().__init__(parent)
        self.bar = status_bar
        self.hub = hub
        self.model = model
        self.connections: dict[str, ConnectionStatus] = {}
        self._last: dict[str, tuple[float, int]] = {}

        self.counts = _plain()
        self.counts.setObjectName("status-counts")
        self.paused = _plain()
        self.paused.setObjectName("status-paused")
        self.paused.setStyleSheet("color: #bf8700; font-weight: bold;")
        self.paused.hide()
        self.queue = _plain()
        self.queue.setObjectName("status-queue")
        self.queue.hide()
        status_bar.addPermanentWidget(self.paused)
        status_bar.addPermanentWidget(self.counts)
        status_bar.addPermanentWidget(self.queue)

        hub.status_changed.connect(self._on_status)
        hub.connections_changed.connect(self._sync)
        model.paused_changed.connect(lambda _p: self.refresh())
        self.monitor = QueueMonitor(hub, parent=self) if poll_queue else None
        if self.monitor is not None:
            self.monitor.usage_changed.connect(lambda *_: self._refresh_queue())
        self.timer = QTimer(self, interval=1000, timeout=self.refresh)
        self.timer.start()
        self._sync()

    def _sync(self) -> None:
        names = self.hub.names()
        for name in list(self.connections):
            if name not in names:
                w = self.connections.pop(name)
                self.bar.removeWidget(w)
                w.deleteLater()
                self._last.pop(name, None)
        for name in names:
            if name not in self.connections:
                w = ConnectionStatus(name)
                self.connections[name] = w
                self.bar.addWidget(w, 1)
                w.show()
                st = self.hub.status(name)
                if st is not None:
                    w.set_status(st)
        self.refresh()

    def _on_status(self, name: str, st: Status) -> None:
        if name not in self.connections:
            self._sync()
        w = self.connections.get(name)
        if w is not None:
            w.set_status(st)

    def refresh(self) -> None:
        now = time.monotonic()
        for name, w in self.connections.items():
            lst = self.hub.listener(name)
            if lst is None:
                continue
            prev = self._last.get(name)
            if prev is None or now - prev[0] >= 0.5:
                self._last[name] = (now, lst.received)
                if prev is not None:
                    inst = (lst.received - prev[1]) / (now - prev[0])
                    w.rate = 0.0 if inst == 0 else inst if w.rate == 0 else \
                        0.5 * w.rate + 0.5 * inst
            w.received = lst.received
            w.dropped = lst.dropped
            w.refresh()
        m = self.model
        shown = m.rowCount()
        parts = [f"{shown:,} shown"]
        if m.filter is not None:
            parts[0] += f" of {m.buffered:,}"
        parts.append(f"{m.evicted:,} dropped (limit {m.capacity:,})" if m.evicted else
                     f"limit {m.capacity:,}")
        self.counts.setText(" · ".join(parts))
        self.counts.setToolTip(
            "Rows shown (after the filter) of rows held; the oldest rows leave once the "
            "limit is reached, and 'dropped' counts them. Each connection's 'received' "
            "counts its notifications, this window's own included; a gap row (a lost "
            "connection) is a row here but no notification there.")
        if m.paused:
            extra = f" ({m.dropped_while_paused:,} overflowed)" if m.dropped_while_paused else ""
            self.paused.setText(f"⏸ paused · {m.waiting:,} waiting{extra}")
            self.paused.show()
        else:
            self.paused.hide()

    def _refresh_queue(self) -> None:
        mon = self.monitor
        if mon is None:
            return
        if not mon.usage and not mon.errors:
            self.queue.hide()
            return
        worst = max(mon.usage.values()) if mon.usage else None
        if worst is None:
            self.queue.setText("queue ?")
        else:
            self.queue.setText(f"queue {describe_queue_usage(worst)}")
        warn = worst is not None and worst > QUEUE_WARN
        self.queue.setStyleSheet("color: #cf222e; font-weight: bold;" if warn else "")
        tip = ["Server notification queue in use (pg_notification_queue_usage()):"]
        tip += [f"  {n}: {describe_queue_usage(u)}" for n, u in sorted(mon.usage.items())]
        tip += [f"  {n}: could not read ({e})" for n, e in sorted(mon.errors.items())]
        if warn:
            tip.append("Above half full: some listener is not reading. When the queue is "
                       "full, every transaction that calls pg_notify fails.")
        self.queue.setToolTip("\n".join(tip))
        self.queue.show()

    async def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # the window may already be gone
            self.timer.stop()
        if self.monitor is not None:
            await self.monitor.stop()
