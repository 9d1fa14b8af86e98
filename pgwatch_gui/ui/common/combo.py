"""Small helpers for combo boxes that list the hub's open connections."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox


def refill_keeping_current(combo: QComboBox, items: Sequence[str]) -> bool:
    """Replace the items without emitting change signals, keeping the current text where it
    is still listed. Returns whether the current text changed (the caller reacts once)."""
    current = combo.currentText()
    combo.blockSignals(True)
    try:
        combo.clear()
        combo.addItems(list(items))
        if current in items:
            combo.setCurrentText(current)
    finally:
        combo.blockSignals(False)
    return combo.currentText() != current
