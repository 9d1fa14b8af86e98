"""The History dock: a rate graph (events/s per channel or per table and operation) and
statistics (counts by channel, table, operation, the busiest keys, payload sizes, gaps).

It costs nothing while hidden: the dock listens to the hub only while it is visible
and repaints once a second then. When it is shown, the graph is filled back from the
journal (per channel straight from SQL), so it is not empty for the first minutes.
Statistics are computed each time their tab comes into view (and on Refresh), over
the rows in memory or over a span of the journal, on a worker thread: never a figure
left from when the dock was first shown, empty.
"""

from __future__ import annotations

import asyncio
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.journal.rates import RateCounter, series_name
from pgwatch_gui.core.journal.stats import Stats, compute_stats
from pgwatch_gui.ui.history.rate_graph import RateGraph

WINDOWS = ((60, "1 minute"), (300, "5 minutes"), (900, "15 minutes"))
SCOPES = (("memory", "Rows in memory"), (3600, "Journal: last hour"),
          (86400, "Journal: last 24 hours"), (None, "Journal: everything (newest 500,000)"))


def _share(n: int, total: int) -> str:
    return f"{n:,}  ({100 * n / total:.1f} %)" if total else f"{n:,}"


class HistoryDock(QWidget):
    clear_requested = Signal()  # *Clear history…*: the part opens the dialog

    def __init__(self, window, link, parent=None) -> None:
        super().__init__(parent)
        self.main = window
        self.hub = window.hub
        self.link = link
        self.counter = RateCounter(300)
        self._connected = False
        self._backfill: asyncio.Task | None = None
        self._stats_task: asyncio.Task | None = None
        self.stats: Stats | None = None

        self.tabs = QTabWidget(self)
        # ---- rate tab
        rate = QWidget(self)
        self.mode = QComboBox(rate)
        self.mode.addItem("per channel", "channel")
        self.mode.addItem("per table and operation", "table/op")
        self.span = QComboBox(rate)
        for secs, label in WINDOWS:
            self.span.addItem(label, secs)
        self.span.setCurrentIndex(1)
        self.graph = RateGraph(rate)
        top = QHBoxLayout()
        top.addWidget(QLabel("Events per second", rate))
        top.addWidget(self.mode)
        top.addWidget(QLabel("over", rate))
        top.addWidget(self.span)
        top.addStretch(1)
        rl = QVBoxLayout(rate)
        rl.addLayout(top)
        rl.addWidget(self.graph, 1)
        self.tabs.addTab(rate, "Rate")
        # ---- statistics tab
        st = QWidget(self)
        self.scope = QComboBox(st)
        for data, label in SCOPES:
            self.scope.addItem(label, data)
        self.refresh_button = QPushButton("Refresh", st, clicked=self.refresh_stats)
        self.clear_button = QPushButton("Clear history…", st,
                                        clicked=lambda: self.clear_requested.emit())
        self.clear_button.setToolTip("Remove events from the journal on disk, for good")
        self.stats_note = QLabel("", st)
        self.stats_note.setTextFormat(Qt.TextFormat.PlainText)
        # Three columns of sections side by side: a wide dock shows them all at once.
        self.trees = []
        for _ in range(3):
            tree = QTreeWidget(st)
            tree.setHeaderLabels(["", "Count"])
            tree.setRootIsDecorated(False)
            header = tree.header()
            header.setStretchLastSection(False)
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
            self.trees.append(tree)
        row = QHBoxLayout()
        row.addWidget(QLabel("Over", st))
        row.addWidget(self.scope)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        row.addWidget(self.clear_button)
        sl = QVBoxLayout(st)
        sl.addLayout(row)
        sl.addWidget(self.stats_note)
        # Side by side in a wide dock, one above the other in a narrow one.
        self.trees_box = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        for tree in self.trees:
            self.trees_box.addWidget(tree, 1)
        sl.addLayout(self.trees_box, 1)
        self.tabs.addTab(st, "Statistics")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs)

        self.timer = QTimer(self, interval=1000, timeout=self.redraw)
        self.mode.currentIndexChanged.connect(self._restart)
        self.span.currentIndexChanged.connect(self._restart)
        self.scope.currentIndexChanged.connect(self.refresh_stats)
        self.stats_tab = st
        self.tabs.currentChanged.connect(self._tab_changed)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        wide = self.width() >= 900
        self.trees_box.setDirection(QBoxLayout.Direction.LeftToRight if wide
                                    else QBoxLayout.Direction.TopToBottom)

    # ---- visibility: nothing runs while hidden ------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._connected:
            self.hub.events_arrived.connect(self.counter.add)
            self._connected = True
            self._restart()
            self.timer.start()
            if self.tabs.currentWidget() is self.stats_tab:
                self.refresh_stats()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        if self._connected:
            self.hub.events_arrived.disconnect(self.counter.add)
            self._connected = False
            self.timer.stop()
            self.counter.clear()

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.stats_tab and self.isVisible():
            self.refresh_stats()

    @property
    def listening(self) -> bool:
        return self._connected

    # ---- rates ----------------------------------------------------------------------------------

    def _restart(self) -> None:
        window = int(self.span.currentData())
        self.counter.window = window
        self.counter.mode = self.mode.currentData()
        self.counter.clear()
        since = time.time() - window
        if self.link is not None and self.link.enabled and self.link.journal_path().exists():
            from pgwatch_gui.core.journal.reader import read_counts

            path, mode = self.link.journal_path(), self.counter.mode

            async def backfill() -> None:
                try:
                    rows = await self.link.read(read_counts, path, since, mode)
                except Exception:
                    rows = []
                self.counter.add_counts(rows)
                self.redraw()

            if self._backfill is not None:
                self._backfill.cancel()
            self._backfill = asyncio.ensure_future(backfill())
        else:
            mode = self.counter.mode
            self.counter.add_counts([(int(e.received_at), series_name(e, mode), 1)
                                     for e in self._recent(since) if not e.is_gap])
        self.redraw()

    def _recent(self, since: float) -> list:
        evs = self.main.event_model.all_events()
        lo = len(evs)
        while lo > 0 and evs[lo - 1].received_at >= since:
            lo -= 1
        return evs[lo:]

    def redraw(self) -> None:
        _start, series = self.counter.series(time.time())
        note = "estimated (sampled)" if self.counter.sampled else ""
        self.graph.set_series(series, self.counter.window, note)

    # ---- statistics ----------------------------------------------------------------------------

    def refresh_stats(self) -> None:
        scope = self.scope.currentData()
        if scope == "memory" or self.link is None or not self.link.enabled:
            events = self.main.event_model.all_events()
            self.show_stats(compute_stats(events), "rows in memory")
            return
        from pgwatch_gui.core.journal.reader import read_recent

        since = None if scope is None else time.time() - scope
        path = self.link.journal_path()
        self.stats_note.setText("Reading the journal…")

        def work() -> Stats:
            return compute_stats(read_recent(path, since))

        async def run() -> None:
            try:
                st = await self.link.read(work)
            except Exception as exc:
                self.stats_note.setText(f"Could not read the journal: {exc}")
                return
            self.show_stats(st, self.scope.currentText().lower())

        if self._stats_task is not None:
            self._stats_task.cancel()
        self._stats_task = asyncio.ensure_future(run())

    def show_stats(self, st: Stats, where: str) -> None:
        self.stats = st
        minutes = st.span / 60
        self.stats_note.setText(f"{st.notifications:,} notifications and {st.gaps} gaps in "
                                f"{where}, over {minutes:,.1f} minutes")
        for t in self.trees:
            t.clear()
        n = st.notifications

        def section(t: QTreeWidget, title: str, rows) -> None:
            top = QTreeWidgetItem(t, [title, ""])
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for name, count in rows:
                QTreeWidgetItem(top, [str(name), count if isinstance(count, str)
                                      else _share(count, n)])
            top.setExpanded(True)

        left, mid, right = self.trees
        section(left, "Overview", [("notifications", f"{n:,}"), ("gaps (connection lost)",
                                                          f"{st.gaps:,}"),
                             ("sent by this window", f"{st.own:,}"),
                             ("payload bytes", f"{st.total_bytes:,}")])
        section(left, "Payload size, bytes", [(k, f"{v:,}") for k, v in st.sizes.items()])
        section(mid, "Channels", st.by_channel.most_common(15))
        section(mid, "Operations", st.by_op.most_common())
        section(right, "Tables", st.by_table.most_common(15))
        section(right, "Busiest keys", st.top_keys(10))
