"""*Audit triggers…*: a non-modal window that checks every committed row change of some
tables against the notification their trigger should send.

It asks core for the plan first (nothing is created): the channels the tables'
notify triggers send on (editable), warnings (a channel per row, a table without a
trigger or a key), and the publication's SQL, shown before it runs, with REPLICA
IDENTITY FULL offered for a table without a replica identity. Start runs an
AuditSession on the window's task runner (supervised); the counters refresh four
times a second, discrepancies are listed as they are found, and clicking one shows
the committed row beside the payload. Stop (or closing the window) ends the audit:
the last counterparts are awaited for the grace period, the publication is dropped.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.audit.plan import AuditPlan, plan_audit
from pgwatch_gui.core.audit.records import table_text
from pgwatch_gui.core.audit.report import verdict
from pgwatch_gui.core.audit.session import DONE, FAILED, AuditSession
from pgwatch_gui.core.pg.notify import NotifyError
from pgwatch_gui.core.replication.preview import IDENTITY_FULL_COST
from pgwatch_gui.ui.audit.results_view import AuditResults
from pgwatch_gui.ui.common.json_view import JsonText
from pgwatch_gui.ui.common.leftovers import LeftoverPublications
from pgwatch_gui.ui.common.tasks import AsyncWork

INTRO = ("Every committed row change of these tables, read through logical replication, is "
         "matched against the notification its trigger should send: by transaction, table, "
         "operation and key. A change without its notification is missing; a notification "
         "whose values disagree with the committed row is mismatched; one without a change is "
         "unexpected. A publication is created when you start and dropped when you stop.")
RED, GREY, AMBER = "color: #cf222e;", "color: #57606a;", "color: #9a6700;"


def _label(text: str = "", style: str = "") -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    lab.setStyleSheet(style)
    return lab


class AuditWindow(QDialog):
    finished_audit = Signal(str)  # the verdict, once an audit has ended

    def __init__(self, conninfo: str, tables: list[tuple[str, str]], *, route=None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.setWindowFlag(Qt.WindowType.Window)
        self.conninfo = conninfo
        self.tables = list(tables)
        self.route = route
        self.plan: AuditPlan | None = None
        self.session: AuditSession | None = None
        self.work = AsyncWork(self)
        self._start_when_planned = False
        self.setWindowTitle("Audit triggers of " + ", ".join(
            table_text(t) or "" for t in self.tables))
        self.resize(1100, 760)

        self.intro = _label(INTRO, GREY)
        self.message = _label("Reading the tables' triggers...")
        self.channels = QLineEdit()
        self.channels.setToolTip("Channels to LISTEN on, separated by commas; by default the "
                                 "ones the tables' notify triggers send on")
        row = QHBoxLayout()
        row.addWidget(QLabel("Channels:"))
        row.addWidget(self.channels, 1)
        self.warnings = _label("", AMBER)
        self.warnings.hide()
        self.full = QCheckBox("Compare old rows too: set REPLICA IDENTITY FULL on the table(s) "
                              "first")
        self.full.setToolTip(IDENTITY_FULL_COST)
        self.full.hide()
        self.full.toggled.connect(lambda _on: self._show_sql())
        self.sql = JsonText()
        self.sql.setPlaceholderText("The SQL to run appears here.")
        lines = self.sql.fontMetrics().lineSpacing()
        self.sql.setMaximumHeight(4 * lines + 12)
        self.leftovers = LeftoverPublications(self.work, conninfo, self._fail, GREY)
        self.results = AuditResults()
        self.results.set_tables(list(self.tables))

        self.copy = QPushButton("Copy SQL", clicked=lambda: QGuiApplication.clipboard().setText(
            self.sql.toPlainText()))
        self.start = QPushButton("Start audit", clicked=self.start_audit)
        self.start.setDefault(True)
        self.start.setEnabled(False)
        self.stop = QPushButton("Stop", clicked=self.stop_audit)
        self.stop.setEnabled(False)
        close = QPushButton("Close", clicked=self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy)
        buttons.addWidget(self.leftovers.button)
        buttons.addStretch(1)
        buttons.addWidget(self.start)
        buttons.addWidget(self.stop)
        buttons.addWidget(close)

        setup = QWidget()
        top = QVBoxLayout(setup)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.intro)
        top.addLayout(row)
        top.addWidget(self.warnings)
        top.addWidget(self.full)
        top.addWidget(QLabel("SQL that runs when you start:"))
        top.addWidget(self.sql)
        top.addWidget(self.leftovers.label)
        setup.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        lay = QVBoxLayout(self)
        lay.addWidget(setup)
        lay.addWidget(self.results, 1)
        lay.addWidget(self.message)
        lay.addLayout(buttons)

        self.timer = QTimer(self, interval=250, timeout=self._refresh)
        self.load()

    # ---- the plan --------------------------------------------------------------------

    def load(self) -> None:
        self.plan = None
        self._sync()
        self.work.run(plan_audit, self.conninfo, self.tables, on_done=self._planned,
                      on_error=self._not_planned)

    def _not_planned(self, text: str) -> None:
        self._start_when_planned = False
        self._fail(text)

    def _fail(self, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(RED)

    def _planned(self, plan: AuditPlan) -> None:
        self.plan = plan
        if self._start_when_planned:  # Start again: the channels and options chosen stay
            self._start_when_planned = False
            self._begin()
            return
        self.results.set_tables(list(plan.names))
        self.channels.setText(", ".join(plan.channels))
        self.channels.setPlaceholderText("no notify trigger with a fixed channel found: "
                                         "type the channels to listen on")
        if plan.warnings:
            self.warnings.setText("\n".join(plan.warnings))
            self.warnings.show()
        pv = plan.preview
        self.full.setVisible(pv is not None and pv.with_full is not None)
        if pv is not None and pv.setup is None and pv.with_full is not None:
            self.full.setChecked(True)  # the only way to stream a table without identity
        if pv is not None:
            self.leftovers.show(pv.leftovers)
        self._show_sql()

    def _show_sql(self) -> None:
        plan = self.plan
        if plan is None:
            return
        setup = plan.setup(self.full.isChecked())
        if setup is None:
            pv = plan.preview
            self._fail((pv.refused_with_full if self.full.isChecked() else pv.refused)
                       if pv is not None else "the change stream cannot start")
            self.sql.set_text("")
        else:
            self.sql.set_text(setup.sql_text())
            self.message.setStyleSheet("")
            self.message.setText(f"Ready: publication {setup.name}, temporary slot "
                                 f"{setup.slot}. Write to the tables while it runs.")
        self._sync()

    def _sync(self) -> None:
        running = self.session is not None and self.session.running
        ready = self.plan is not None and self.plan.setup(self.full.isChecked()) is not None
        self.start.setEnabled(ready and not running)
        self.stop.setEnabled(running)
        for w in (self.channels, self.full):
            w.setEnabled(not running)

    # ---- running ---------------------------------------------------------------------

    def start_audit(self) -> None:
        if self.plan is None or (self.session is not None and self.session.running):
            return
        if self.session is not None:  # again: read the triggers afresh (one may be fixed)
            self._start_when_planned = True
            self.message.setText("Reading the tables' triggers...")
            self.load()
            return
        self._begin()

    def _begin(self) -> None:
        plan = self.plan
        if plan is None:
            return
        try:
            plan = plan.with_channels([c.strip() for c in self.channels.text().split(",")
                                       if c.strip()])
        except NotifyError as exc:
            self._fail(str(exc))
            return
        if plan.refused:
            self._fail(plan.refused)
            return
        setup = plan.setup(self.full.isChecked())
        assert setup is not None
        self.results.clear()
        self.results.set_tables(list(plan.names))
        self.session = AuditSession(self.conninfo, plan, setup, route=self.route,
                                    on_found=self.results.add, on_state=self._state)
        session = self.session
        self.work.supervise("trigger audit", session.run, retries=0,
                            on_failed=lambda text: self._state(FAILED, text))
        self.timer.start()
        self._sync()

    def stop_audit(self) -> None:
        if self.session is not None and self.session.running:
            self.session.stop()
            self.message.setText("Stopping: waiting for the last counterparts...")

    def _state(self, state: str, detail: str) -> None:
        if state == FAILED:
            self._fail(detail)
        elif state == DONE:
            self._refresh()
            assert self.session is not None
            a = self.session.auditor
            text = verdict(a.counts, a.unattributed)
            self.message.setStyleSheet(RED if not a.clean else "")
            self.message.setText(f"Audit ended: {text}. The publication was dropped.")
            self.finished_audit.emit(text)
        elif detail:
            self.message.setStyleSheet("")
            self.message.setText(detail)
        if state in (DONE, FAILED):
            self.timer.stop()
            self._refresh()
        self._sync()

    def _refresh(self) -> None:
        if self.session is not None:
            a = self.session.auditor
            self.results.show_counts(a.counts, a.unattributed)

    # ---- closing ---------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop_audit()
        super().closeEvent(event)

    async def shutdown(self) -> None:
        """End a running audit quickly (the window is closing): no final grace, but the
        publication is dropped before the task runner gives up on it."""
        session = self.session
        if session is not None and session.running:
            session.stop()
            session.stop()
            for _ in range(100):
                if not session.running:
                    break
                await asyncio.sleep(0.02)
        await self.work.stop(timeout=1.0)
