"""What an empty table says: that no row matches the filter (and how many it hides), or
that nothing has arrived yet. A blank table tells a new user nothing."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QPushButton, QVBoxLayout, QWidget

from pgwatch_gui.ui.common.wording import counted
from pgwatch_gui.ui.events.model import EventTableModel

GAPS_ONLY_MAX = 50  # rows: more than this many shown is never "nothing matches"


class EmptyNote(QWidget):
    """Centred over the view's viewport while the model shows no row."""

    def __init__(self, view: QAbstractItemView, model: EventTableModel,
                 reset_filter: Callable[[], None]) -> None:
        super().__init__(view.viewport())
        self.setObjectName("empty-note")
        self.view = view
        self.model = model
        self.text = QLabel(self)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        self.text.setStyleSheet("color: palette(placeholder-text);")
        self.reset_button = QPushButton("Reset filter", self)
        self.reset_button.clicked.connect(reset_filter)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignHCenter)
        for sig in (model.rowsInserted, model.rowsRemoved, model.modelReset,
                    model.filter_changed, model.cleared, model.paused_changed):
            sig.connect(self.refresh)
        view.viewport().installEventFilter(self)
        self.refresh()

    def refresh(self, *_args) -> None:
        m = self.model
        n = m.rowCount()
        # gap markers always show; a filter that leaves only them matches nothing
        if n > GAPS_ONLY_MAX or any(not m.event(r).is_gap for r in range(n)):
            self.hide()
            return
        held = m.buffered - n
        if m.filter is not None and held:
            self.text.setText(f"No rows match the filter.\n"
                              f"It hides all {counted(held, 'row')} held.")
            self.reset_button.show()
        else:
            waiting = f"\n{m.waiting:,} wait while paused." if m.paused and m.waiting else ""
            self.text.setText("No notifications yet." + waiting)
            self.reset_button.hide()
        self._place()
        self.show()

    def _place(self) -> None:
        vp = self.view.viewport()
        width = min(vp.width() - 20, 460)
        self.resize(width, self.sizeHint().height())
        top = (vp.height() - self.height()) // 3
        n = self.model.rowCount()
        if n:  # below the gap markers
            last = self.view.rowViewportPosition(n - 1) + self.view.rowHeight(n - 1)
            top = max(top, last + 10)
        self.move((vp.width() - width) // 2, max(10, top))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    @property
    def message(self) -> str:
        return self.text.text() if self.isVisible() else ""
