"""Says so while the table does not follow the newest rows: the user picked a row (or
scrolled up), the view holds still, and newer rows wait below. A click on it, Ctrl+End,
or scrolling to the bottom follows again."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel

from pgwatch_gui.ui.events.model import EventTableModel

REFRESH_MS = 250


class HoldNote(QLabel):
    """A pill at the bottom of the table's viewport, shown while follow is off."""

    def __init__(self, view, model: EventTableModel) -> None:
        super().__init__(view.viewport())
        self.setObjectName("hold-note")
        self.view = view
        self.model = model
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click, or press Ctrl+End, to follow the newest rows again")
        pal = self.palette()
        self.setStyleSheet(
            f"QLabel#hold-note {{ background: {pal.color(QPalette.ColorRole.ToolTipBase).name()};"
            f" color: {pal.color(QPalette.ColorRole.ToolTipText).name()};"
            f" border: 1px solid {pal.color(QPalette.ColorRole.Mid).name()};"
            " border-radius: 9px; padding: 3px 12px; }")
        self._since = model.appended
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_MS,
                             timeout=self.refresh)
        view.follow_changed.connect(self._follow_changed)
        model.rowsInserted.connect(self._later)
        model.modelReset.connect(self._later)
        view.viewport().installEventFilter(self)
        self.hide()

    def _follow_changed(self, on: bool) -> None:
        self._since = self.model.appended
        self.refresh()

    def _later(self, *_args) -> None:
        if not self.view.follow and not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        if self.view.follow or not self.model.rowCount():
            self.hide()
            return
        what = ("Holding the view on the selected row" if self.view.currentIndex().isValid()
                else "Not following the newest rows")
        new = self.model.appended - self._since
        newer = f" · {new:,} new since" if new else ""
        self.setText(f"{what}{newer} · Ctrl+End follows again")
        self._place()
        self.show()
        self.raise_()

    def _place(self) -> None:
        """At the bottom of the table, or at its top when the held row is down there."""
        self.adjustSize()
        vp = self.view.viewport()
        x = max(4, (vp.width() - self.width()) // 2)
        y = max(4, vp.height() - self.height() - 8)
        cur = self.view.currentIndex()
        if cur.isValid() and self.view.visualRect(cur).bottom() >= y - 4:
            y = 8
        self.move(x, y)

    def mousePressEvent(self, event) -> None:
        self.view.set_follow(True)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False
