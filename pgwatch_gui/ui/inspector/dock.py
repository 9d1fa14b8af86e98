"""The payload inspector (a dock): metadata, pretty JSON, tree, old/new diff, raw text.

Everything a payload says is shown as plain text: labels use Qt.PlainText, the JSON
views are QPlainTextEdit with a syntax highlighter, the tree and diff are item views.
A payload that is not JSON shows raw, with a note saying why.
Only the visible tab is filled; the others fill when they are shown.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.pg.notify import MAX_PAYLOAD_BYTES
from pgwatch_gui.core.replication.pgoutput import commit_latency
from pgwatch_gui.core.stream.events import Event, format_key
from pgwatch_gui.core.stream.payload_view import bytes_left, parse_exact, pretty, row_diff
from pgwatch_gui.core.stream.payloads import (
    SHAPE_CHANGE,
    SHAPE_EMPTY,
    SHAPE_ENVELOPE,
    SHAPE_JSON,
    SHAPE_ROW,
    SHAPE_TEXT,
)
from pgwatch_gui.ui.common.json_view import JsonText
from pgwatch_gui.ui.common.wording import counted
from pgwatch_gui.ui.inspector.diff import DiffView
from pgwatch_gui.ui.inspector.tree import JsonTree

SHAPE_NAMES = {
    SHAPE_ENVELOPE: "pgwatch envelope v1",
    SHAPE_CHANGE: "change message",
    SHAPE_ROW: "row (row_to_json)",
    SHAPE_JSON: "JSON value",
    SHAPE_TEXT: "text",
    SHAPE_EMPTY: "empty",
}
TAB_JSON, TAB_TREE, TAB_DIFF, TAB_RAW = range(4)
WIDE_MIN_WIDTH = 640  # px: at least this wide, and
WIDE_RATIO = 1.6  # this much wider than tall, puts the facts left of the tabs
FACTS_WIDTH = 330
QWIDGETSIZE_MAX = (1 << 24) - 1


def _plain(text: str = "", parent=None, *, selectable: bool = True, dim: bool = False) -> QLabel:
    lab = QLabel(text, parent)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if dim:
        lab.setStyleSheet("color: palette(placeholder-text);")
    return lab


def local_time(ts: float) -> str:
    """'2026-11-21 10:00:00.123 CET (UTC+01:00)', or '... UTC' in UTC."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc).astimezone()
    text = dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}"
    off = dt.strftime("%z")
    off = f"{off[:3]}:{off[3:]}" if len(off) == 5 else off
    name = dt.strftime("%Z")
    if off in ("+00:00", "") and name in ("UTC", "GMT", ""):
        return f"{text} UTC"
    return f"{text} {name} (UTC{off})" if name and not name.startswith(("+", "-")) else \
        f"{text} (UTC{off})"


class Inspector(QWidget):
    filter_requested = Signal(str, str)  # kind, value: as EventTableView.filter_requested

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self._event: Event | None = None
        self._value = None
        self._parse_error: str | None = None
        self._filled: set[int] = set()

        self.title = _plain("", self)
        f = self.title.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.1)
        self.title.setFont(f)
        self.note = _plain("", self)
        self.note.setWordWrap(True)
        self.note.setObjectName("inspector-note")
        self.note.hide()

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.meta: dict[str, QLabel] = {}
        names = (("channel", "Channel"), ("connection", "Connection"), ("pid", "Sender PID"),
                 ("received", "Received"), ("shape", "Shape"), ("key", "Key"),
                 ("size", "Size"))
        for i, (key, label) in enumerate(names):
            grid.addWidget(_plain(label, self, selectable=False, dim=True), i, 0,
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            value = _plain("", self)
            value.setWordWrap(True)
            self.meta[key] = value
            grid.addWidget(value, i, 1)
        self.limit_bar = QProgressBar(self)
        self.limit_bar.setRange(0, MAX_PAYLOAD_BYTES + 1)
        self.limit_bar.setTextVisible(False)
        self.limit_bar.setFixedHeight(6)
        self.limit_bar.setToolTip("Share of PostgreSQL's 8,000-byte payload limit used")
        grid.addWidget(self.limit_bar, len(names), 1)
        grid.setColumnStretch(1, 1)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.json_view = JsonText(self, highlight=True)
        self.tree = JsonTree(self)
        self.diff = DiffView(self)
        self.raw = JsonText(self, wrap=True)
        self.tabs.addTab(self.json_view, "JSON")
        self.tabs.addTab(self.tree, "Tree")
        self.tabs.addTab(self.diff, "Diff")
        self.tabs.addTab(self.raw, "Raw")
        self.tabs.currentChanged.connect(self._fill_current)
        self.tree.filter_requested.connect(lambda cond: self.filter_requested.emit("field", cond))

        self.copy_button = QPushButton("Copy payload", self)
        self.copy_button.clicked.connect(self.copy_payload)
        self.copy_pretty_button = QPushButton("Copy pretty", self)
        self.copy_pretty_button.clicked.connect(self.copy_pretty)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_pretty_button)
        buttons.addWidget(self.copy_button)

        self.empty = _plain("Select a row to inspect its payload.", self, dim=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        # The facts (title, metadata, note, buttons) and the tabs: side by side when the
        # inspector is wide (docked below the table), one above the other when tall.
        self.facts = QWidget(self)
        facts = QVBoxLayout(self.facts)
        facts.setContentsMargins(0, 0, 0, 0)
        facts.addWidget(self.title)
        facts.addLayout(grid)
        self.facts_line = QFrame(self)
        self.facts_line.setFrameShape(QFrame.Shape.HLine)
        self.facts_line.setFrameShadow(QFrame.Shadow.Sunken)
        facts.addWidget(self.facts_line)
        facts.addWidget(self.note)
        self.facts_stretch = QWidget(self)
        facts.addWidget(self.facts_stretch, 1)
        self.facts_stretch.hide()

        self.body = QWidget(self)
        self.body_layout = QBoxLayout(QBoxLayout.Direction.TopToBottom, self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.body_layout.addWidget(self.facts)
        tabs_box = QVBoxLayout()
        tabs_box.addWidget(self.tabs, 1)
        tabs_box.addLayout(buttons)
        self.body_layout.addLayout(tabs_box, 1)
        self.wide = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addWidget(self.empty, 1)
        lay.addWidget(self.body, 1)
        self.body.hide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        w, h = self.width(), self.height()
        self.set_wide(w >= WIDE_MIN_WIDTH and w >= WIDE_RATIO * h)

    def set_wide(self, wide: bool) -> None:
        """Facts left of the tabs (wide) or above them (tall)."""
        if wide == self.wide:
            return
        self.wide = wide
        self.body_layout.setDirection(QBoxLayout.Direction.LeftToRight if wide else
                                      QBoxLayout.Direction.TopToBottom)
        self.body_layout.setSpacing(12 if wide else 6)
        self.facts.setFixedWidth(FACTS_WIDTH if wide else QWIDGETSIZE_MAX)
        self.facts_stretch.setVisible(wide)
        self.facts_line.setVisible(not wide)

    # ---- showing an event --------------------------------------------------------------

    @property
    def event(self) -> Event | None:  # type: ignore[override]
        return self._event

    def show_event(self, ev: Event | None) -> None:
        self._event = ev
        self._filled.clear()
        if ev is None:
            self.body.hide()
            self.empty.show()
            return
        self.empty.hide()
        self.body.show()
        d = ev.decoded
        self._value = None
        self._parse_error = None
        if ev.is_gap:
            self.title.setText("Gap: notifications were lost here")
        else:
            op = d.op or ""
            table = ev.qualified_table or ""
            self.title.setText(" ".join(x for x in (op, table) if x) or f"Notification on "
                               f"{ev.channel}")
        if d.is_json:
            try:
                self._value = parse_exact(ev.payload)
            except (ValueError, RecursionError) as exc:  # pragma: no cover - decoded said JSON
                self._parse_error = str(exc)
        m = self.meta
        m["channel"].setText(ev.channel or "—")
        m["connection"].setText(ev.profile or "—")
        change = ev.kind == "change"  # a row change from a replication slot: no sender pid
        m["pid"].setText("— (a row change, no notification)" if change else
                         f"{ev.pid}" + ("  (sent from this window)" if ev.own else ""))
        received = local_time(ev.received_at)
        latency = commit_latency(d.value, ev.received_at) if change else None
        if latency is not None:  # commit -> here, on the two machines' clocks
            received += f" · {latency * 1000:,.0f} ms after its commit"
        m["received"].setText(received)
        shape = SHAPE_NAMES.get(d.shape, d.shape) if not ev.is_gap else "gap marker"
        m["shape"].setText(shape)
        m["key"].setText(format_key(d.key) or "—")
        size = ev.size
        left = bytes_left(size)
        if change:
            m["size"].setText(f"{counted(size, 'byte')} · a row change has no size limit")
        else:
            m["size"].setText(f"{counted(size, 'byte')} · {left:,} left under the 8,000-byte limit")
        self.limit_bar.setVisible(not change)
        self.limit_bar.setValue(min(size, MAX_PAYLOAD_BYTES + 1))

        note = ""
        if ev.is_gap:
            note = ev.payload
        elif d.shape == SHAPE_EMPTY:
            note = "Empty payload: the notification carried no text."
        elif d.shape == SHAPE_TEXT:
            why = (d.error or "").removeprefix("not JSON").lstrip(": ")
            note = f"Not JSON ({why}): shown as raw text." if why else \
                "Not JSON: shown as raw text."
        elif isinstance(self._value, dict) and self._value.get("truncated") is True:
            note = ("Truncated by the trigger: the full payload would have reached 8,000 "
                    "bytes, so it carries the keys only.")
        self.note.setText(note)
        self.note.setVisible(bool(note))

        has_json = self._value is not None or (d.is_json and d.value is None)
        self._diff = row_diff(self._value, d.op) if has_json else None
        self.tabs.setTabEnabled(TAB_JSON, has_json)
        self.tabs.setTabEnabled(TAB_TREE, has_json)
        self.tabs.setTabEnabled(TAB_DIFF, self._diff is not None)
        self.tabs.setTabToolTip(TAB_DIFF, "" if self._diff is not None else
                                "This payload carries no old and new row")
        self.copy_pretty_button.setEnabled(has_json)
        cur = self.tabs.currentIndex()
        if not self.tabs.isTabEnabled(cur):
            self.tabs.setCurrentIndex(TAB_JSON if has_json else TAB_RAW)
        self._fill_current()

    def _fill_current(self, *_args) -> None:
        i = self.tabs.currentIndex()
        ev = self._event
        if ev is None or i in self._filled:
            return
        self._filled.add(i)
        if i == TAB_JSON:
            self.json_view.set_text(pretty(self._value) if self._value is not None or
                                    ev.decoded.is_json else "")
        elif i == TAB_TREE:
            self.tree.set_value(self._value)
        elif i == TAB_DIFF:
            self.diff.set_diff(self._diff)
        elif i == TAB_RAW:
            self.raw.set_text(ev.payload)

    def show_diff_tab(self) -> None:
        if self.tabs.isTabEnabled(TAB_DIFF):
            self.tabs.setCurrentIndex(TAB_DIFF)

    # ---- copy ------------------------------------------------------------------------

    def copy_payload(self) -> None:
        if self._event is not None:
            QGuiApplication.clipboard().setText(self._event.payload)

    def copy_pretty(self) -> None:
        if self._event is not None and self._value is not None:
            QGuiApplication.clipboard().setText(pretty(self._value))
