"""Install (or change) notify triggers: the form, then the exact SQL, then Install.

The preview page shows the script core.triggers will run, with Copy and
"Save as migration...". Install runs it in one transaction; in "every table of a
schema" mode each table gets its own transaction and a progress bar, and the
tables that failed are listed. Afterwards the dialog offers to listen on the
channel at once (`listen_requested`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.catalog import TableInfo
from pgwatch_gui.core.triggers.spec import TriggerSpec
from pgwatch_gui.ui.common import dialogs
from pgwatch_gui.ui.common.tasks import AsyncWork, with_connection
from pgwatch_gui.ui.triggers.form import TriggerForm


class TriggerDialog(QDialog):
    installed = Signal(object)  # list of table names installed
    listen_requested = Signal(str)  # a channel to LISTEN on

    def __init__(self, conninfo: str, tables: Sequence[TableInfo],
                 spec: TriggerSpec | None = None, *, per_table: bool = False,
                 title: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conninfo = conninfo
        self.tables = list(tables)
        self.per_table = per_table
        self.plan: triggers.Plan | None = None
        self.failures: list[str] = []
        # Not `done`: that would hide QDialog.done(), which accept() calls.
        self.install_done = False  # installed: Install is not offered twice
        self.work = AsyncWork(self)
        names = ", ".join(t.qualified for t in self.tables[:4])
        if len(self.tables) > 4:
            names += f" and {len(self.tables) - 4} more"
        self.setWindowTitle(title or f"Notify trigger on {names}")
        self.resize(1000, 680)

        self.form = TriggerForm(self.tables, spec)
        self.form.changed.connect(self._form_changed)
        self.form.check_when_requested.connect(self.check_when)

        preview = QWidget()
        pv = QVBoxLayout(preview)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.sql_view = QPlainTextEdit(readOnly=True)
        self.sql_view.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.sql_view.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.progress = QProgressBar()
        self.progress.hide()
        pv.addWidget(QLabel("The exact SQL that Install runs in one transaction"
                            + (" per table" if per_table else "") + " (Copy and Save as "
                            "migration give this file; run it with psql -v ON_ERROR_STOP=1 "
                            "-f):"))
        pv.addWidget(self.sql_view, 1)
        pv.addWidget(self.notes)
        pv.addWidget(self.progress)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.form)
        self.pages.addWidget(preview)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.back_btn = QPushButton("Back", clicked=self.show_form)
        self.copy_btn = QPushButton("Copy", clicked=self.copy_sql)
        self.save_btn = QPushButton("Save as migration...", clicked=self.save_migration)
        self.install_btn = QPushButton("Install", clicked=self.install)
        self.preview_btn = QPushButton("Preview SQL...", clicked=self.preview)
        self.preview_btn.setDefault(True)
        self.close_btn = QPushButton("Cancel", clicked=self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for b in (self.back_btn, self.copy_btn, self.save_btn, self.install_btn,
                  self.preview_btn, self.close_btn):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.pages, 1)
        lay.addLayout(buttons)
        self.work.busy_changed.connect(self._sync_buttons)
        self.show_form()

    # ---- pages ----
    def show_form(self) -> None:
        self.pages.setCurrentIndex(0)
        self._sync_buttons()

    def _form_changed(self) -> None:
        self.plan = None
        self.install_done = False
        self._sync_buttons()

    def _sync_buttons(self, *_args) -> None:
        on_form = self.pages.currentIndex() == 0
        busy = self.work.busy
        form_ok = self.form.problem_text() is None
        self.preview_btn.setVisible(on_form)
        self.preview_btn.setEnabled(not busy and form_ok)
        for b in (self.back_btn, self.copy_btn, self.save_btn):
            b.setVisible(not on_form)
        # Install is there on the form too: it plans, shows the SQL and runs it.
        if on_form:
            self.install_btn.setEnabled(not busy and form_ok and not self.install_done)
        else:
            self.install_btn.setEnabled(not busy and self.plan is not None
                                        and not self.plan.blockers and not self.install_done)
        self.back_btn.setEnabled(not busy)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setStyleSheet("color: #cf222e;" if error else "")

    # ---- preview ----
    def preview(self) -> None:
        self.set_status("Reading the tables...")
        self.work.run(triggers.plan_install, self.conninfo, self.form.specs(),
                      on_done=self._show_plan, on_error=lambda e: self.set_status(e, True))

    def _show_plan(self, plan: triggers.Plan) -> None:
        self.plan = plan
        self.sql_view.setPlainText(plan.script)
        lines = [f"Note: {n}" for n in plan.notes] + [f"Cannot install: {b}"
                                                      for b in plan.blockers]
        self.notes.setText("\n".join(lines))
        self.notes.setStyleSheet("color: #cf222e;" if plan.blockers else "color: #9a6700;")
        self.set_status("")
        self.pages.setCurrentIndex(1)
        self._sync_buttons()

    def _plan_then_install(self, plan: triggers.Plan) -> None:
        self._show_plan(plan)
        if not plan.blockers:
            self.install()

    def check_when(self) -> None:
        if not self.form.when_edit.text().strip():
            self.form.set_when_status(True, "no condition")
            return
        self.form.set_when_status(True, "checking...")

        async def go(conn):
            plan = await triggers.plan_install(conn, self.form.specs())
            return await triggers.check(conn, plan)

        def done(message: str | None) -> None:
            self.form.set_when_status(message is None, "OK" if message is None else message)

        self.work.run(go, self.conninfo, on_done=done,
                      on_error=lambda e: self.form.set_when_status(False, e))

    # ---- output ----
    def copy_sql(self) -> None:
        if self.plan is not None:
            QGuiApplication.clipboard().setText(self.plan.script)
            self.set_status("SQL copied to the clipboard.")

    def save_migration(self, path: str | None = None) -> None:
        if self.plan is None:
            return
        if path is None:
            default = f"pgwatch_notify_{self.tables[0].name}.sql".replace(" ", "_")
            path, _ = QFileDialog.getSaveFileName(self, "Save as migration", default,
                                                  "SQL files (*.sql);;All files (*)")
            if not path:
                return
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.plan.script)
        except OSError as exc:
            self.set_status(f"Could not save: {exc}", True)
            return
        self.set_status(f"Saved {path}")

    # ---- install ----
    def install(self) -> None:
        if self.plan is None:
            if self.form.problem_text() is not None:
                return
            # From the form: plan first (the preview page shows what runs), then install.
            self.set_status("Reading the tables...")
            self.work.run(triggers.plan_install, self.conninfo, self.form.specs(),
                          on_done=self._plan_then_install,
                          on_error=lambda e: self.set_status(e, True))
            return
        self.set_status("Installing...")
        if not self.per_table:
            self.work.run(triggers.execute, self.conninfo, self.plan,
                          on_done=lambda _r: self._installed(list(self.plan.tables)),
                          on_error=lambda e: self.set_status(e, True))
            return
        self.work.spawn(with_connection(self.conninfo, self._install_each))

    async def _install_each(self, conn) -> None:
        specs = self.form.specs()
        self.progress.setRange(0, len(specs))
        self.progress.setValue(0)
        self.progress.show()
        done: list[str] = []
        self.failures = []
        for i, spec in enumerate(specs):
            try:
                plan = await triggers.plan_install(conn, [spec])
                await triggers.execute(conn, plan)
                done.append(spec.qualified_table)
            except triggers.TriggerError as exc:
                self.failures.append(f"{spec.qualified_table}: {exc}")
            self.progress.setValue(i + 1)
            self.progress.setFormat(f"%v of %m tables ({len(self.failures)} failed)")
        if self.failures:
            self.notes.setText("Not installed:\n" + "\n".join(self.failures))
            self.notes.setStyleSheet("color: #cf222e;")
        self._installed(done)

    def _installed(self, tables: list[str]) -> None:
        self.install_done = True
        self._sync_buttons()
        self.installed.emit(tables)
        failed = f", {len(self.failures)} failed" if self.failures else ""
        self.set_status(f"Installed on {len(tables)} table(s){failed}.", bool(self.failures))
        self.close_btn.setText("Close")
        channels = list(self.plan.channels) if self.plan is not None else []
        self._offer_listen(channels)

    def _offer_listen(self, channels: list[str]) -> None:
        """One question per channel, each opened when the previous one is answered."""
        if not channels:
            if not self.failures:
                self.accept()
            return
        ch, rest = channels[0], channels[1:]

        def answered(yes: bool) -> None:
            if yes:
                self.listen_requested.emit(ch)
            self._offer_listen(rest)

        self.ask(f"Installed. Listen on channel {ch!r} now?", answered)

    def ask(self, question: str, on_answer: Callable[[bool], None]) -> None:
        """A yes/no question answered through on_answer, without a nested event loop:
        this runs at the end of an install task (tests replace it)."""
        dialogs.ask(self, self.windowTitle(), question, on_answer)
