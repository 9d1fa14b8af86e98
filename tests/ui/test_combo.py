from PySide6.QtWidgets import QComboBox

from pgwatch_gui.ui.common.combo import refill_keeping_current


def test_refill_keeps_current_and_reports_change(qtbot):
    combo = QComboBox()
    qtbot.addWidget(combo)
    seen = []
    combo.currentTextChanged.connect(seen.append)
    assert refill_keeping_current(combo, ["a", "b"]) is True  # "" -> "a"
    combo.setCurrentText("b")
    seen.clear()
    assert refill_keeping_current(combo, ["c", "b"]) is False
    assert combo.currentText() == "b" and seen == []  # no signal storm while refilling
    assert refill_keeping_current(combo, ["c"]) is True and combo.currentText() == "c"
