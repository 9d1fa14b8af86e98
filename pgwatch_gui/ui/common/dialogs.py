"""Message boxes that never run an event loop of their own.

A static `QMessageBox.warning(...)` or `exec()` nests an event loop; inside an asyncio
task that lets qasync step other tasks while this one is still executing, and they die
("Cannot enter into task ... while another task ... is being executed"). These open the
box with `open()` and report the answer through a callback (or a future to await).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def _box(parent: QWidget | None, icon, title: str, text: str, buttons) -> QMessageBox:
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return box


def warn(parent: QWidget | None, title: str, text: str,
         icon=QMessageBox.Icon.Warning) -> QMessageBox:
    """Show a message and return at once."""
    box = _box(parent, icon, title, text, QMessageBox.StandardButton.Ok)
    box.open()
    return box


def inform(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    return warn(parent, title, text, QMessageBox.Icon.Information)


def ask(parent: QWidget | None, title: str, question: str,
        on_answer: Callable[[bool], None]) -> QMessageBox:
    """A yes/no question; on_answer(True/False) once it is answered (closing: no)."""
    box = _box(parent, QMessageBox.Icon.Question, title, question,
               QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)

    def finished(_result: int) -> None:
        on_answer(box.clickedButton() is box.button(QMessageBox.StandardButton.Yes))

    box.finished.connect(finished)
    box.open()
    return box


def ask_async(parent: QWidget | None, title: str, question: str) -> asyncio.Future:
    """The same question as a future to await (True for yes)."""
    fut = asyncio.get_event_loop().create_future()

    def answered(yes: bool) -> None:
        if not fut.done():
            fut.set_result(yes)

    ask(parent, title, question, answered)
    return fut
