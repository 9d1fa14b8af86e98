"""EventTableModel: the live table's model, a QAbstractTableModel over a bounded ring.

Events arrive a batch at a time (`append_events`, the hub's slot). Per batch the model
does one filter pass over the new events, at most one beginRemoveRows (the oldest rows
leaving the ring) and at most one beginInsertRows. The filter is not a
QSortFilterProxyModel: with a filter active the model keeps the absolute positions of
the rows that pass in an array and maps view rows through it, so Qt never calls back
into Python per row to ask whether a row is visible.

Every event ever appended has an absolute position (0, 1, 2, ...); ring row r holds
position `base + r`. Positions never move, so the visible-row array, the display cache
and the facet cache survive eviction without renumbering.

Pausing freezes what the table shows; reading goes on and the events wait (bounded by
the ring's capacity) until resume.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Iterator

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QPixmap

from pgwatch_gui.core.filtering.engine import EventFilter, FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache
from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.core.stream.ring import EventRing
from pgwatch_gui.ui.events.columns import (
    ALIGN_ROLE,
    COL_CONNECTION,
    COL_PID,
    COL_SIZE,
    DISPLAY_ROLE,
    EVENT_ROLE,
    HEADERS,
    RIGHT,
    STYLE_ROLES,
    TOOLTIP_ROLE,
    TOOLTIPS,
    Palette,
    cell_style,
    row_values,
)

_Index = QModelIndex | QPersistentModelIndex
_BLANK = Event(0, 0.0, "", "", 0, "")
_CACHE_ROWS = 4096


class EventTableModel(QAbstractTableModel):
    """The live table. Rows are what passes the filter (every row when there is none)."""

    paused_changed = Signal(bool)
    filter_changed = Signal()  # after set_filter re-filtered the rows
    cleared = Signal()

    def __init__(self, capacity: int = 100_000, parent=None) -> None:
        super().__init__(parent)
        self._ring = EventRing(capacity)
        self._base = 0  # absolute position of ring row 0
        self._filter: EventFilter | None = None
        self._vis: array | None = None  # absolute positions of visible rows, ascending
        self._facets = FacetCache()
        self._cache: dict[int, tuple] = {}
        self._paused = False
        self._pending: deque[Event] = deque()
        self.evicted = 0  # rows that left the ring because it was full
        self.dropped_while_paused = 0
        self.appended = 0
        self.last_append_at = 0.0
        self._colors: dict[str, QColor] = {}
        self._swatches: dict[str, QPixmap] = {}
        self._pal = Palette()

    # ---- sizes and lookups ----------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self._ring.capacity

    @property
    def buffered(self) -> int:
        """Events held (visible or not), not counting those waiting while paused."""
        return len(self._ring)

    @property
    def waiting(self) -> int:
        return len(self._pending)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def filter(self) -> EventFilter | None:
        return self._filter

    @property
    def facet_cache(self) -> FacetCache:
        return self._facets

    # The painter's interface: it draws rows itself and asks for no Qt roles.
    @property
    def palette(self) -> Palette:
        return self._pal

    @property
    def profile_colors(self) -> dict[str, QColor]:
        return self._colors

    def row_values(self, row: int) -> tuple:
        """Display strings of a view row (the nine columns), then its Event."""
        return self._row(row)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        vis = self._vis
        return len(self._ring) if vis is None else len(vis)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def position(self, row: int) -> int:
        """Absolute position of a view row."""
        vis = self._vis
        return self._base + row if vis is None else vis[row]

    def row_of_position(self, pos: int) -> int | None:
        """View row of an absolute position, or None if it is gone or filtered out."""
        if pos < self._base or pos >= self._base + len(self._ring):
            return None
        vis = self._vis
        if vis is None:
            return pos - self._base
        i = bisect_left(vis, pos)
        return i if i < len(vis) and vis[i] == pos else None

    def event(self, row: int) -> Event:  # type: ignore[override]
        """The Event shown on a view row."""
        vis = self._vis
        if vis is None:
            return self._ring[row]
        return self._ring[vis[row] - self._base]

    def events(self, rows: Iterable[int] | None = None) -> list[Event]:
        """The Events of the given view rows (all shown rows when None), in row order."""
        if rows is None:
            vis = self._vis
            if vis is None:
                return list(self._ring)
            ring, base = self._ring, self._base
            return [ring[p - base] for p in vis]
        return [self.event(r) for r in sorted(set(rows))]

    def all_events(self) -> list[Event]:
        """Every buffered Event, shown or filtered out, oldest first."""
        return list(self._ring)

    def keyed_events(self, newest: int | None = None) -> Iterator[tuple[int, Event]]:
        """(absolute position, Event) for every buffered Event (or the `newest` n)."""
        n = len(self._ring)
        first = 0 if newest is None else max(0, n - newest)
        return zip(range(self._base + first, self._base + n), self._ring.slice(first, n),
                   strict=False)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY_ROLE):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(HEADERS):
            if role == DISPLAY_ROLE:
                return HEADERS[section]
            if role == TOOLTIP_ROLE:
                return TOOLTIPS[section]
            if role == ALIGN_ROLE and section in (COL_SIZE, COL_PID):
                return RIGHT
        return None

    # ---- cell data ------------------------------------------------------------------

    def _row(self, row: int) -> tuple:
        """Display strings of a row plus the event, cached by absolute position."""
        vis = self._vis
        pos = self._base + row if vis is None else vis[row]
        cached = self._cache.get(pos)
        if cached is not None:
            return cached
        ring = self._ring
        ev = ring._buf[(ring._start + pos - self._base) % ring.capacity]
        if ev is None:  # pragma: no cover - a stale index from a view mid-update
            return ("",) * 9 + (_BLANK,)
        # The facets (decoded once, kept compact) serve the row, the filters and the
        # pickers alike: the payload is not decoded again for any of them.
        vals = row_values(ev, None if ev.kind == "gap" else self._facets.get(pos, ev))
        cache = self._cache
        if len(cache) >= _CACHE_ROWS:
            cache.clear()
        cache[pos] = vals
        return vals

    def data(self, index: _Index, role: int = DISPLAY_ROLE):
        if role == DISPLAY_ROLE:
            return self._row(index.row())[index.column()]
        if role == ALIGN_ROLE:
            return RIGHT if index.column() in (COL_SIZE, COL_PID) else None
        if role in STYLE_ROLES:
            return cell_style(self._row(index.row()), index.column(), role, self._pal,
                              self._swatches)
        if role == EVENT_ROLE:
            return self._row(index.row())[9]
        return None

    # ---- appearance hooks -------------------------------------------------------------

    def set_profile_color(self, name: str, color: QColor | None) -> None:
        """Colour the connection column for one connection name (None: default)."""
        if color is None or not QColor(color).isValid():
            self._colors.pop(name, None)
            self._swatches.pop(name, None)
        else:
            c = QColor(color)
            self._colors[name] = c
            pm = QPixmap(10, 10)
            pm.fill(c)
            self._swatches[name] = pm
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, COL_CONNECTION),
                                  self.index(n - 1, COL_CONNECTION))

    def profile_color(self, name: str) -> QColor | None:
        return self._colors.get(name)

    # ---- updates ----------------------------------------------------------------------

    def append_events(self, events: list[Event]) -> None:
        """The hub's slot: one batch in, at most one remove and one insert out."""
        if not events:
            return
        if self._paused:
            self._queue_pending(events)
            return
        self._append(events)

    def _queue_pending(self, events: list[Event]) -> None:
        pending = self._pending
        pending.extend(events)
        over = len(pending) - self._ring.capacity
        if over > 0:
            for _ in range(over):
                pending.popleft()
            self.dropped_while_paused += over

    def _append(self, events: list[Event]) -> None:
        ring = self._ring
        cap = ring.capacity
        if len(events) > cap:
            # More than the ring holds: everything buffered leaves, and so do the
            # oldest of this batch (their positions are used up without a row).
            if len(ring):
                self._evict(len(ring))
            skipped = len(events) - cap
            self.evicted += skipped
            self._base += skipped
            self.appended += skipped
            events = events[-cap:]
        n = len(events)
        leaving = ring.overflow(n)
        if leaving:
            self._evict(leaving)
        first_pos = self._base + len(ring)
        self.appended += n
        self.last_append_at = time.time()
        vis = self._vis
        if vis is None:
            first = len(ring)
            self.beginInsertRows(QModelIndex(), first, first + n - 1)
            ring.extend(events)
            self.endInsertRows()
            return
        assert self._filter is not None
        hits = self._filter.select(events, first_pos, self._facets)
        ring.extend(events)
        if hits:
            first = len(vis)
            self.beginInsertRows(QModelIndex(), first, first + len(hits) - 1)
            vis.extend([first_pos + i for i in hits])
            self.endInsertRows()

    def _evict(self, k: int) -> None:
        old_base = self._base
        new_base = old_base + k
        vis = self._vis
        if vis is None:
            self.beginRemoveRows(QModelIndex(), 0, k - 1)
            self._ring.drop_oldest(k)
            self._base = new_base
            self.endRemoveRows()
        else:
            cut = bisect_left(vis, new_base)
            if cut:
                self.beginRemoveRows(QModelIndex(), 0, cut - 1)
                del vis[:cut]
                self._ring.drop_oldest(k)
                self._base = new_base
                self.endRemoveRows()
            else:
                self._ring.drop_oldest(k)
                self._base = new_base
        self.evicted += k
        self._facets.forget_range(old_base, new_base)
        if len(self._cache) > _CACHE_ROWS // 2:
            self._cache = {p: v for p, v in self._cache.items() if p >= new_base}

    def set_filter(self, spec: FilterSpec | EventFilter | None) -> EventFilter | None:
        """Apply a filter to every buffered row and to rows still to come.

        Returns the compiled filter (whose `errors` say what was left out), or None when
        the filter is empty and every row shows.
        """
        if isinstance(spec, FilterSpec):
            flt: EventFilter | None = compile_filter(spec)
        else:
            flt = spec
        flt_kept = flt if flt is not None and (flt.active or flt.errors) else None
        if flt is not None and not flt.active:
            flt = None
        self.beginResetModel()
        self._filter = flt
        self._cache.clear()
        if flt is None:
            self._vis = None
        else:
            hits = flt.select(list(self._ring), self._base, self._facets)
            base = self._base
            self._vis = array("q", [base + i for i in hits])
        self.endResetModel()
        self.filter_changed.emit()
        return flt_kept

    def set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        self._paused = paused
        if not paused and self._pending:
            batch = list(self._pending)
            self._pending.clear()
            self._append(batch)
        self.paused_changed.emit(paused)

    def set_capacity(self, capacity: int) -> None:
        """Change the ring's size, keeping the newest rows."""
        capacity = max(1, int(capacity))
        if capacity == self._ring.capacity:
            return
        keep = list(self._ring)[-capacity:]
        self.beginResetModel()
        gone = len(self._ring) - len(keep)
        self._base += gone
        self.evicted += gone
        self._ring = EventRing(capacity)
        self._ring.extend(keep)
        self._cache.clear()
        self._facets.clear(self._base)
        if self._filter is not None:
            hits = self._filter.select(keep, self._base, self._facets)
            self._vis = array("q", [self._base + i for i in hits])
        self.endResetModel()

    def clear(self) -> None:
        """Remove every row (and whatever waits while paused); counters start again."""
        self.beginResetModel()
        self._base += len(self._ring)
        self._ring.clear()
        self._pending.clear()
        self._cache.clear()
        self._facets.clear(self._base)
        if self._vis is not None:
            self._vis = array("q")
        self.evicted = 0
        self.dropped_while_paused = 0
        self.endResetModel()
        self.cleared.emit()

    def load_events(self, events: list[Event]) -> int:
        """Replace the contents with these events (a recording), keeping the newest that fit.

        Returns how many did not fit. Events waiting while paused stay waiting.
        """
        pending = list(self._pending)
        self.clear()
        over = max(0, len(events) - self._ring.capacity)
        if events:
            self._append(list(events[over:]))
        self._pending.extend(pending)
        return over
