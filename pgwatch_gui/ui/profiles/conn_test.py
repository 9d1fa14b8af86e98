"""ConnectionTestWidget: "Test connection", asynchronous and cancellable, and its findings.

The test itself is core.conncheck.check_connection running on the qasync loop; this
widget only starts it, cancels it, and turns the report into coloured lines.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import weakref
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from pgwatch_gui.core.pg.conncheck import ConnectionReport, check_connection
from pgwatch_gui.core.pg.connection import one_line

_MARKS = {"ok": ("✔", "#1a7f37"), "info": ("•", "#57606a"),
          "warning": ("⚠", "#9a6700"), "error": ("✖", "#cf222e")}


def _weak(func: Callable) -> Callable:
    """A bound method as a weak reference (calling it after its object died gives None)."""
    if inspect.ismethod(func):
        ref = weakref.WeakMethod(func)
        return lambda: (m := ref()) and m()
    return func


def report_html(report: ConnectionReport) -> str:
    rows = []
    for level, text in report.findings():
        mark, color = _MARKS.get(level, _MARKS["info"])
        rows.append(f'<span style="color:{color}">{mark}</span>&nbsp;{html.escape(text)}')
    if report.ok:
        rows.append(f'<span style="color:#57606a">({report.elapsed * 1000:.0f} ms)</span>')
    return "<br>".join(rows)


class ConnectionTestWidget(QWidget):
    finished = Signal(object)  # the ConnectionReport, or None when cancelled
    host_key_unknown = Signal(object)  # core.ssh.errors.HostKeyUnknown: ask the user

    def __init__(self, conninfo: Callable[[], str | Awaitable[str] | None], *,
                 timeout: Callable[[], float] | None = None,
                 parent: QWidget | None = None,
                 checker: Callable[[], Callable | None] | None = None) -> None:
        """`conninfo` (and `timeout`) are asked at each start; bound methods are kept weakly,
        so that a dialog owning this widget does not sit in a reference cycle.
        `checker` may give another test to run, `async (conninfo, timeout) -> report`
        (through an SSH tunnel); None runs core.pg.conncheck.check_connection."""
        super().__init__(parent)
        self._conninfo = _weak(conninfo)
        self._timeout = _weak(timeout) if timeout is not None else None
        self._checker = _weak(checker) if checker is not None else None
        self._task: asyncio.Task | None = None
        self.last_report: ConnectionReport | None = None

        self.test_button = QPushButton("&Test connection", self)
        self.test_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel test", self)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.status = QLabel("", self)
        self.result = QLabel("", self)
        self.result.setTextFormat(Qt.RichText)
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.result.setObjectName("connection-test-result")

        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def task(self) -> asyncio.Task | None:
        return self._task

    def start(self) -> None:
        if self.running:
            return
        conninfo = self._conninfo()
        if conninfo is None:  # the form said what is wrong
            return
        timeout = self._timeout() if self._timeout is not None else 15.0
        self.last_report = None
        self.result.setText("")
        self.status.setText(f"Testing… (at most {timeout:g} s)")
        self.test_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        checker = self._checker() if self._checker is not None else None

        async def test() -> ConnectionReport:
            # The provider may hand over an awaitable: a password read from the keyring
            # in a thread, never on the GUI thread.
            ci = await conninfo if inspect.isawaitable(conninfo) else conninfo
            if checker is not None:
                return await checker(ci, timeout)
            return await check_connection(ci, timeout=timeout)

        self._task = asyncio.ensure_future(test())
        self._task.add_done_callback(self._done)

    def clear(self) -> None:
        """The form changed under the result (a pasted URI): the old verdict goes."""
        self.cancel()
        self.last_report = None
        self.status.setText("")
        self.result.setText("")

    def cancel(self) -> None:
        if self.running:
            assert self._task is not None
            self._task.cancel()

    async def wait(self) -> ConnectionReport | None:
        """Wait for the running test (tests and callers that want the report)."""
        task = self._task
        if task is None:
            return self.last_report
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
        return self.last_report

    def _done(self, task: asyncio.Task) -> None:
        self.test_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if task.cancelled():
            self.status.setText("Test cancelled.")
            self.finished.emit(None)
            return
        try:
            report = task.result()
        except Exception as exc:  # a bug, not a database problem: still one readable line
            report = ConnectionReport(ok=False, error=one_line(exc))
        self.last_report = report
        if report.ok:
            self.status.setText("Connected." if report.can_listen
                                else "Connected, but LISTEN will not work here.")
        else:
            self.status.setText("Could not connect.")
        self.result.setText(report_html(report))
        self.finished.emit(report)
        if report.host_key_unknown is not None:
            self.status.setText("Unknown SSH host key.")
            self.host_key_unknown.emit(report.host_key_unknown)
