"""Help > About: the versions that matter (app, Qt, PySide6, psycopg, libpq, servers)."""

from __future__ import annotations

import asyncio

import PySide6
from PySide6.QtCore import QSysInfo, Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from pgwatch_gui import __version__
from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.pg.versions import library_versions, server_version
from pgwatch_gui.ui.common.tasks import AsyncWork

PENDING = "asking…"


def qt_versions() -> list[tuple[str, str]]:
    return [
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("System", QSysInfo.prettyProductName()),
    ]


class AboutDialog(QDialog):
    def __init__(self, hub=None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About pgwatch-gui")
        self.setObjectName("about-dialog")
        self.hub = hub
        layout = QVBoxLayout(self)
        title = QLabel(
            f"<h2>pgwatch-gui {__version__}</h2>"
            "<p>A desktop monitor for PostgreSQL LISTEN/NOTIFY change streams.</p>", self)
        title.setTextFormat(Qt.RichText)
        layout.addWidget(title)

        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Component", "Version"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QTreeWidget.NoSelection)
        layout.addWidget(self.tree)
        self._server_items: dict[str, QTreeWidgetItem] = {}
        for name, version in library_versions()[:1] + qt_versions()[:2] + library_versions()[1:]:
            QTreeWidgetItem(self.tree, [name, version])
        QTreeWidgetItem(self.tree, list(qt_versions()[2]))
        for name in (hub.names() if hub is not None else []):
            self._server_items[name] = QTreeWidgetItem(self.tree, [f"Server ({name})", PENDING])
        self.tree.resizeColumnToContents(0)
        self.tree.setFocusPolicy(Qt.NoFocus)
        rows = self.tree.topLevelItemCount()
        row_h = self.tree.sizeHintForRow(0) if rows else 18
        self.tree.setFixedHeight(self.tree.header().sizeHint().height() + rows * row_h + 6)

        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        copy = QPushButton("Copy", self)
        copy.setToolTip("Copy these versions as text, for a bug report")
        buttons.addButton(copy, QDialogButtonBox.ActionRole)
        copy.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(480, self.sizeHint().height())
        self.work = AsyncWork(self)
        # Closing the dialog deletes its items: stop asking the servers first.
        self.finished.connect(lambda _r: self.work.cancel_all())

    def rows(self) -> list[tuple[str, str]]:
        root = self.tree.invisibleRootItem()
        return [(root.child(i).text(0), root.child(i).text(1)) for i in range(root.childCount())]

    def as_text(self) -> str:
        return "\n".join(f"{name}: {version}" for name, version in self.rows())

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.as_text())

    async def refresh_servers(self) -> None:
        """Ask every open connection's server for its version (a short connection each)."""

        async def one(name: str, item: QTreeWidgetItem) -> None:
            conninfo = self.hub.conninfo(name) if self.hub is not None else None
            if not conninfo:
                item.setText(1, "not connected")
                return
            try:
                text = await asyncio.wait_for(server_version(conninfo), 10)
                item.setText(1, f"PostgreSQL {text}")
            except Exception as exc:
                item.setText(1, f"unreachable: {one_line(exc)}")

        await asyncio.gather(*(one(n, it) for n, it in self._server_items.items()))


def show_about(window) -> AboutDialog:
    """Open the About dialog (non-modal) and fill in the server versions as they come."""
    dialog = AboutDialog(getattr(window, "hub", None), window)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.show()
    refresh = dialog.refresh_servers()
    try:
        dialog._refresh = dialog.work.spawn(refresh)
    except RuntimeError:  # no running loop: versions stay "asking…"
        refresh.close()  # never started: closed, so nothing warns it was never awaited
    return dialog
