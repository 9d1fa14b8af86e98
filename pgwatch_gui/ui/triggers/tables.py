"""A dock with the schemas and tables of a connection, and what notifies from them.

Tables carrying a pgwatch trigger show its channel and payload mode; tables with a
hand-written notify trigger show the channels found in its source. Select one or
more tables (or a schema) and use the context menu or the buttons to install,
change, show, listen to or remove triggers.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.replication.publication import WatchPlan
from pgwatch_gui.core.triggers import catalog
from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.catalog import TableInfo
from pgwatch_gui.core.triggers.discovery import FIXED
from pgwatch_gui.ui.common.combo import refill_keeping_current
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.common.tasks import AsyncWork
from pgwatch_gui.ui.triggers.dialog import TriggerDialog
from pgwatch_gui.ui.triggers.snapshot import (
    Snapshot,
    add_leftovers,
    mark,
    read_snapshot,
    rows_text,
)
from pgwatch_gui.ui.triggers.views import ShowTriggerDialog

ROLE = Qt.UserRole


class TablesBrowser(QWidget):
    refreshed = Signal()
    # Watch changes…: connection name, conninfo, core WatchPlan (the shell opens the dialog)
    watch_requested = Signal(str, str, object)
    # Audit triggers…: connection name, conninfo, [(schema, table)] (the shell opens it)
    audit_requested = Signal(str, str, object)

    def __init__(self, hub: ConnectionHub, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.work = AsyncWork(self)
        self.snapshot: Snapshot | None = None
        self.dialog: QDialog | None = None  # the last dialog opened (tests look at it)

        self.connection = QComboBox()
        self.connection.setToolTip("The connection whose database is shown")
        self.connection.currentTextChanged.connect(lambda _t: self.refresh())
        refresh = QPushButton("Refresh", clicked=self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.connection, 1)
        top.addWidget(refresh)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Table", "Rows", "Notifies"])
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemSelectionChanged.connect(self._sync_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.install_selected())
        self.tree.setColumnWidth(0, 170)
        self.tree.setColumnWidth(1, 56)

        self.install_btn = QPushButton("Install...", clicked=self.install_selected)
        self.install_btn.setToolTip("Install (or change) a notify trigger on the selected tables")
        self.remove_btn = QPushButton("Remove", clicked=self.remove_selected)
        self.remove_all_btn = QPushButton("Remove all...", clicked=self.remove_all)
        self.remove_all_btn.setToolTip("Remove every trigger pgwatch-gui installed in this "
                                       "database, and its functions that no trigger uses")
        self.watch_btn = QPushButton("Watch changes...", clicked=lambda: self.watch_changes())
        self.watch_btn.setToolTip("Watch row changes of the selected tables (or every table) "
                                  "through logical replication, without a trigger")
        self.audit_btn = QPushButton("Audit...", clicked=lambda: self.audit_triggers())
        self.audit_btn.setToolTip("Audit triggers: check that every committed change of the "
                                  "selected tables sends its notification")
        buttons = QHBoxLayout()
        for b in (self.install_btn, self.remove_btn, self.remove_all_btn, self.watch_btn,
                  self.audit_btn):
            buttons.addWidget(b)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.tree, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        hub.connections_changed.connect(self._sync_connections)
        self._sync_connections()

    def sizeHint(self) -> QSize:  # wide enough to read the "Notifies" column
        return QSize(460, 520)

    # ---- connection ----
    @property
    def conninfo(self) -> str | None:
        name = self.connection.currentText()
        return self.hub.conninfo(name) if name else None

    def _sync_connections(self) -> None:
        if refill_keeping_current(self.connection, self.hub.names()):
            self.refresh()
        self._sync_buttons()

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #cf222e;" if error else "")

    # ---- reading ----
    def refresh(self) -> None:
        conninfo = self.conninfo
        if conninfo is None:
            self.tree.clear()
            self.set_status("Open a connection to see its tables.")
            return
        self.set_status("Reading the catalog...")
        self.work.run(read_snapshot, conninfo, on_done=self._show,
                      on_error=lambda e: self.set_status(e, True))

    def _show(self, snap: Snapshot) -> None:
        self.snapshot = snap
        expanded = {self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())
                    if self.tree.topLevelItem(i).isExpanded()}
        selected = {tuple(it.data(0, ROLE)) for it in self.tree.selectedItems()}
        self.tree.clear()
        schemas: dict[str, QTreeWidgetItem] = {}
        bold = QFont()
        bold.setBold(True)
        for t in snap.tables:
            parent = schemas.get(t.schema)
            if parent is None:
                parent = QTreeWidgetItem(self.tree, [t.schema])
                parent.setFont(0, bold)
                parent.setData(0, ROLE, ("schema", t.schema))
                schemas[t.schema] = parent
            item = QTreeWidgetItem(parent, [t.name, rows_text(t.estimated_rows), ""])
            item.setData(0, ROLE, ("table", t.schema, t.name))
            item.setTextAlignment(1, Qt.AlignRight | Qt.AlignVCenter)
            item.setToolTip(1, "estimated rows (pg_class.reltuples); ? = never analysed")
            mark(item, t, snap)
            if ("table", t.schema, t.name) in selected:
                item.setSelected(True)
        for name, parent in schemas.items():
            parent.setToolTip(0, f"schema {name}: {parent.childCount()} table(s)")
            parent.setExpanded(name in expanded or len(schemas) <= 3)
        add_leftovers(self.tree, snap, ROLE)
        n_ours, n_other, n_left = len(snap.installed), len(snap.others), len(snap.leftovers)
        left = (f" · {n_left} leftover function{'s' if n_left > 1 else ''} (Remove all... "
                "drops them)" if n_left else "")
        self.set_status(f"{len(snap.tables)} tables · {n_ours} with a pgwatch trigger · "
                        f"{n_other} with another notify trigger{left}")
        self._sync_buttons()
        self.refreshed.emit()

    # ---- selection ----
    def selected_tables(self) -> list[tuple[str, str]]:
        out = []
        for it in self.tree.selectedItems():
            data = it.data(0, ROLE)
            if data and data[0] == "table":
                out.append((data[1], data[2]))
            elif data and data[0] == "schema":
                out += [(data[1], it.child(i).text(0)) for i in range(it.childCount())]
        return list(dict.fromkeys(out))

    def selected_installed(self) -> list[triggers.Installed]:
        if self.snapshot is None:
            return []
        return [self.snapshot.installed[k] for k in self.selected_tables()
                if k in self.snapshot.installed]

    def _sync_buttons(self) -> None:
        has_conn = self.conninfo is not None
        self.install_btn.setEnabled(has_conn and bool(self.selected_tables()))
        self.remove_btn.setEnabled(has_conn and bool(self.selected_installed()))
        self.remove_all_btn.setEnabled(has_conn and bool(self.snapshot and (
            self.snapshot.installed or self.snapshot.leftovers)))
        self.watch_btn.setEnabled(has_conn)
        self.audit_btn.setEnabled(has_conn and bool(self.selected_tables()))

    def select(self, *tables: tuple[str, str]) -> None:
        """Select these tables in the tree (for tests and for keyboard users)."""
        self.tree.clearSelection()
        for i in range(self.tree.topLevelItemCount()):
            parent = self.tree.topLevelItem(i)
            for j in range(parent.childCount()):
                it = parent.child(j)
                if (parent.text(0), it.text(0)) in tables:
                    it.setSelected(True)

    # ---- actions ----
    def _context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        menu = QMenu(self)
        tables = self.selected_tables()
        ours = self.selected_installed()
        if tables:
            menu.addAction(QAction(f"Install notify trigger on {len(tables)} table(s)...",
                                   menu, triggered=self.install_selected))
        if len(ours) == 1:
            menu.addAction(QAction("Show trigger...", menu, triggered=self.show_selected))
        if ours:
            menu.addAction(QAction("Remove trigger", menu, triggered=self.remove_selected))
        chans = self._listenable(tables)
        for ch in chans:
            menu.addAction(QAction(f"Listen on {ch!r}", menu,
                                   triggered=lambda _c=False, c=ch: self.listen(c)))
        if tables:
            menu.addAction(QAction(f"Watch changes of {len(tables)} table(s)...", menu,
                                   triggered=lambda: self.watch_changes(tables)))
            menu.addAction(QAction(f"Audit triggers of {len(tables)} table(s)...", menu,
                                   triggered=lambda: self.audit_triggers(tables)))
        data = item.data(0, ROLE) if item is not None else None
        if data and data[0] == "schema":
            menu.addSeparator()
            menu.addAction(QAction(f"Install on every table of {data[1]}...", menu,
                                   triggered=lambda: self.install_schema(data[1])))
            menu.addAction(QAction(f"Watch changes of every table of {data[1]}...", menu,
                                   triggered=lambda: self.watch_changes(schema=data[1])))
        streams = [n for n in self.hub.names() if self.hub.is_change_stream(n)]
        if streams:
            menu.addSeparator()
        for name in streams:
            menu.addAction(QAction(f"Stop watching: {name}", menu,
                                   triggered=lambda _c=False, n=name: self.stop_stream(n)))
        menu.addSeparator()
        leftovers = bool(self.snapshot and self.snapshot.leftovers)
        menu.addAction(QAction("Remove all pgwatch triggers"
                               + (" and leftover functions..." if leftovers else "..."), menu,
                               triggered=self.remove_all))
        menu.addAction(QAction("Refresh", menu, triggered=self.refresh))
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def _listenable(self, tables: list[tuple[str, str]]) -> list[str]:
        if self.snapshot is None:
            return []
        out: list[str] = []
        for k in tables:
            inst = self.snapshot.installed.get(k)
            if inst is not None and not inst.spec.per_row_channel:
                out.append(inst.spec.channel)
            for o in self.snapshot.others.get(k, []):
                out += [c.name for c in o.channels if c.kind == FIXED]
        return list(dict.fromkeys(out))

    def listen(self, channel: str) -> None:
        name = self.connection.currentText()
        if not name:
            return
        self.work.spawn(self.hub.listen(name, channel),
                        on_done=lambda _r: self.set_status(f"Listening on {channel!r}."),
                        on_error=lambda e: self.set_status(e, True))

    def watch_changes(self, tables: list[tuple[str, str]] | None = None,
                      schema: str | None = None) -> None:
        """The Watch changes dialog for tables, a schema, or (neither, nothing selected) all."""
        name, conninfo = self.connection.currentText(), self.conninfo
        if not name or conninfo is None:
            return
        if tables is None and schema is None:
            tables = self.selected_tables()
        self.watch_requested.emit(name, conninfo,
                                  WatchPlan(tables=tuple(tables or ()), schema=schema))

    def audit_triggers(self, tables: list[tuple[str, str]] | None = None) -> None:
        """The audit window for the tables (default: the selected ones)."""
        name, conninfo = self.connection.currentText(), self.conninfo
        tables = self.selected_tables() if tables is None else tables
        if name and conninfo is not None and tables:
            self.audit_requested.emit(name, conninfo, list(tables))

    def stop_stream(self, name: str) -> None:
        """Stop a change stream (its publication is dropped)."""
        self.work.spawn(self.hub.close(name),
                        on_done=lambda _r: self.set_status(f"Stopped watching {name!r}."),
                        on_error=lambda e: self.set_status(e, True))

    def install_selected(self) -> None:
        self._open_dialog(self.selected_tables(), per_table=False)

    def install_schema(self, schema: str) -> None:
        if self.snapshot is None:
            return
        tables = [(t.schema, t.name) for t in self.snapshot.tables if t.schema == schema]
        self._open_dialog(tables, per_table=True,
                          title=f"Notify trigger on every table of {schema}")

    def _open_dialog(self, tables: list[tuple[str, str]], per_table: bool,
                     title: str | None = None) -> None:
        conninfo = self.conninfo
        if conninfo is None or not tables:
            return
        self.set_status("Reading columns...")

        async def infos(conn) -> list[TableInfo]:
            return [await catalog.table_info(conn, s, t) for s, t in tables]

        def opened(found: list[TableInfo]) -> None:
            spec = None
            inst = self.snapshot.installed.get(tables[0]) if self.snapshot else None
            if inst is not None:
                spec = inst.spec
            dlg = TriggerDialog(conninfo, found, spec, per_table=per_table, title=title,
                                parent=self)
            dlg.installed.connect(lambda _t: self.refresh())
            dlg.listen_requested.connect(self.listen)
            self.dialog = dlg
            self.set_status("")
            dlg.open()

        self.work.run(infos, conninfo, on_done=opened,
                      on_error=lambda e: self.set_status(e, True))

    def show_selected(self) -> None:
        ours = self.selected_installed()
        if not ours or self.conninfo is None:
            return
        dlg = ShowTriggerDialog(self.conninfo, ours[0], parent=self)
        self.dialog = dlg
        dlg.open()

    def remove_selected(self) -> None:
        ours = self.selected_installed()
        if not ours:
            return
        names = ", ".join(i.qualified_table for i in ours)
        if not self.ask(f"Remove the pgwatch notify trigger from {names}?\n"
                        "Listeners on its channel will stop receiving changes."):
            return
        tables = [(i.schema, i.table) for i in ours]
        self._remove(lambda conn: triggers.plan_remove(conn, tables))

    def remove_all(self) -> None:
        n = len(self.snapshot.installed) if self.snapshot else 0
        m = len(self.snapshot.leftovers) if self.snapshot else 0
        left = (f", and {m} leftover function{'s' if m > 1 else ''} that no trigger uses any "
                "more" if m else "")
        if not self.ask(f"Remove every notify trigger pgwatch-gui installed in this database "
                        f"({n} table(s)) and their functions{left}?"):
            return
        self._remove(triggers.plan_remove_all)

    def _remove(self, make_plan) -> None:
        conninfo = self.conninfo
        if conninfo is None:
            return

        async def go(conn):
            plan = await make_plan(conn)
            await triggers.execute(conn, plan)
            return plan

        def done(plan: triggers.Plan) -> None:
            m = sum(w.startswith("function ") for w in plan.leftovers)
            left = f" and {m} leftover function{'s' if m > 1 else ''}" if m else ""
            self.set_status(f"Removed from {len(plan.tables)} table(s){left}.")
            self.refresh()

        self.work.run(go, conninfo, on_done=done, on_error=lambda e: self.set_status(e, True))

    def ask(self, question: str) -> bool:
        """Yes/no question (tests replace this)."""
        return QMessageBox.question(self, "Notify triggers", question) == QMessageBox.Yes
