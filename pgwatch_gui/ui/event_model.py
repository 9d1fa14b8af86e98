"""EventTableModel: a QAbstractTableModel over a bounded ring buffer of Events.

Appends arrive a batch at a time: one beginInsertRows per batch, and when the cap is
reached the oldest rows leave in one beginRemoveRows per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from pgwatch_gui.core.events import Event, format_key

COL_TIME, COL_CONNECTION, COL_CHANNEL, COL_OP, COL_TABLE, COL_KEY, COL_PAYLOAD, COL_SIZE, \
    COL_PID = range(9)
HEADERS = ("Time", "Connection", "Channel", "Op", "Table", "Key", "Payload", "Size", "PID")
PREVIEW_CHARS = 200

_Index = QModelIndex | QPersistentModelIndex


class EventRing:
    """A bounded ring of Events: O(1) index, O(k) append of k, O(1) drop of the oldest."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._buf: list[Event | None] = [None] * self.capacity
        self._start = 0
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> Event:
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(i)
        return self._buf[(self._start + i) % self.capacity]  # type: ignore[return-value]

    def __iter__(self):
        buf, cap, start = self._buf, self.capacity, self._start
        for i in range(self._len):
            yield buf[(start + i) % cap]

    def overflow(self, incoming: int) -> int:
        """How many of the oldest must leave before `incoming` more fit."""
        return max(0, self._len + min(incoming, self.capacity) - self.capacity)

    def drop_oldest(self, k: int) -> None:
        k = min(k, self._len)
        cap = self.capacity
        end = self._start + k
        if end <= cap:
            self._buf[self._start:end] = [None] * k
        else:
            self._buf[self._start:] = [None] * (cap - self._start)
            self._buf[: end - cap] = [None] * (end - cap)
        self._start = end % cap
        self._len -= k

    def extend(self, events: list[Event]) -> None:
        """Append; the caller makes room first (drop_oldest(overflow(len(events))))."""
        cap = self.capacity
        if len(events) > cap - self._len:
            raise OverflowError("ring is full; drop the oldest first")
        pos = (self._start + self._len) % cap
        n = len(events)
        first = min(n, cap - pos)
        self._buf[pos:pos + first] = events[:first]
        if first < n:
            self._buf[: n - first] = events[first:]
        self._len += n

    def clear(self) -> None:
        self._buf = [None] * self.capacity
        self._start = 0
        self._len = 0


class EventTableModel(QAbstractTableModel):
    def __init__(self, capacity: int = 100_000, parent=None) -> None:
        super().__init__(parent)
        self._ring = EventRing(capacity)
        self.evicted = 0
        # Connection name -> QColor (or None): the swatch in the Connection column.
        self.color_for: Callable[[str], object] | None = None

    # ---- data access ----
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ring)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def event(self, row: int) -> Event:  # type: ignore[override]
        return self._ring[row]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.DisplayRole):
        if role == Qt.DecorationRole and index.column() == COL_CONNECTION and self.color_for:
            return self.color_for(self._ring[index.row()].profile)
        if role != Qt.DisplayRole or not index.isValid():
            return None
        ev = self._ring[index.row()]
        col = index.column()
        if col == COL_TIME:
            return datetime.fromtimestamp(ev.received_at).strftime("%H:%M:%S.%f")[:-3]
        if col == COL_CONNECTION:
            return ev.profile
        if col == COL_CHANNEL:
            return ev.channel
        if ev.is_gap:
            return ev.payload if col == COL_PAYLOAD else None
        if col == COL_OP:
            return ev.op
        if col == COL_TABLE:
            return ev.qualified_table
        if col == COL_KEY:
            return format_key(ev.key)
        if col == COL_PAYLOAD:
            return ev.payload[:PREVIEW_CHARS].replace("\n", " ")
        if col == COL_SIZE:
            return ev.size
        if col == COL_PID:
            return ev.pid
        return None

    # ---- updates ----
    def append_events(self, events: list[Event]) -> None:
        if not events:
            return
        ring = self._ring
        if len(events) > ring.capacity:
            self.evicted += len(events) - ring.capacity
            events = events[-ring.capacity:]
        leaving = ring.overflow(len(events))
        if leaving:
            self.beginRemoveRows(QModelIndex(), 0, leaving - 1)
            ring.drop_oldest(leaving)
            self.endRemoveRows()
            self.evicted += leaving
        first = len(ring)
        self.beginInsertRows(QModelIndex(), first, first + len(events) - 1)
        ring.extend(events)
        self.endInsertRows()

    def colors_changed(self) -> None:
        """Repaint the Connection column after a connection's colour changed."""
        if len(self._ring):
            self.dataChanged.emit(self.index(0, COL_CONNECTION),
                                  self.index(len(self._ring) - 1, COL_CONNECTION),
                                  [Qt.DecorationRole])

    def clear(self) -> None:
        self.beginResetModel()
        self._ring.clear()
        self.evicted = 0
        self.endResetModel()
