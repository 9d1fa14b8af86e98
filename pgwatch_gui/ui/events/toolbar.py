"""Toolbar buttons whose text changes (Pause / Resume) keep one width, so the buttons
after them do not move under the mouse."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QToolBar


def steady_width(toolbar: QToolBar, action: QAction, texts: Iterable[str]) -> None:
    """Fix the action's button to the widest it gets with any of `texts`."""
    button = toolbar.widgetForAction(action)
    if button is None:
        return
    current = action.text()
    widest = 0
    for text in texts:
        action.setText(text)
        widest = max(widest, button.sizeHint().width())
    action.setText(current)
    button.setFixedWidth(widest)
