"""The demo's toolbar: how many changes per second the generator writes, and how many it does.

A slider over a few round stops (0, 1, 2, 5, 10 ... 5,000) for quick moves and a spin
box for an exact figure; both set the core ChangeGenerator's rate while it runs.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QSpinBox, QWidget

from pgwatch_gui.core.demo.session import MAX_RATE

STOPS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def nearest_stop(rate: float) -> int:
    """Index of the stop closest to a rate."""
    i = bisect.bisect_left(STOPS, rate)
    if i == 0:
        return 0
    if i >= len(STOPS):
        return len(STOPS) - 1
    return i if STOPS[i] - rate < rate - STOPS[i - 1] else i - 1


class DemoRateControl(QWidget):
    rate_changed = Signal(int)

    def __init__(self, generator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.generator = generator
        self.setObjectName("demo-rate-control")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(QLabel("Demo writes:", self))

        self.slider = QSlider(Qt.Horizontal, self)
        self.slider.setRange(0, len(STOPS) - 1)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TicksBelow)
        self.slider.setFixedWidth(160)
        self.slider.setToolTip("Changes per second the demo writes (0 pauses)")
        layout.addWidget(self.slider)

        self.spin = QSpinBox(self)
        self.spin.setRange(0, MAX_RATE)
        self.spin.setSuffix(" /s")
        self.spin.setSpecialValueText("paused")
        self.spin.setAccelerated(True)
        self.spin.setToolTip("Changes per second the demo writes, 0 to 5,000")
        self.spin.setFixedWidth(self.fontMetrics().horizontalAdvance("5000 /s") + 48)
        layout.addWidget(self.spin)

        self.achieved = QLabel(self)
        self.achieved.setMinimumWidth(self.fontMetrics().horizontalAdvance("written 5,000/s") + 8)
        self.achieved.setToolTip("Changes per second actually written, over the last second")
        layout.addWidget(self.achieved)

        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Preferred)
        self.spin.setValue(round(generator.rate))
        self.slider.setValue(nearest_stop(generator.rate))
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)

        self._timer = QTimer(self, interval=500, timeout=self.refresh)
        self._timer.start()
        self.refresh()

    @property
    def rate(self) -> int:
        return self.spin.value()

    def set_rate(self, rate: int) -> None:
        self.spin.setValue(rate)

    def _on_slider(self, index: int) -> None:
        self.spin.setValue(STOPS[index])

    def _on_spin(self, value: int) -> None:
        self.generator.rate = value
        self.slider.blockSignals(True)
        self.slider.setValue(nearest_stop(value))
        self.slider.blockSignals(False)
        self.refresh()
        self.rate_changed.emit(value)

    def refresh(self) -> None:
        gen = self.generator
        if gen.last_error and not gen.running:
            self.achieved.setText("stopped")
            self.achieved.setToolTip(gen.last_error)
            return
        self.achieved.setText(f"written {gen.achieved_rate:,.0f}/s")

    def stop_updates(self) -> None:
        self._timer.stop()
