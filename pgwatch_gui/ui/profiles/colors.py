"""Hands the hub's profile colours on to the event table."""

from __future__ import annotations

from PySide6.QtCore import QObject


class ProfileColorSync(QObject):
    """Hands the hub's profile colours on to the event table (set_profile_color)."""

    def __init__(self, hub, model, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hub = hub
        self._model = model
        self._shown: set[str] = set()
        hub.colors_changed.connect(self.apply)
        self.apply()

    def apply(self) -> None:
        colors = self._hub.profile_colors()
        for name in self._shown - set(colors):
            self._model.set_profile_color(name, None)
        for name, color in colors.items():
            if self._model.profile_color(name) != color:
                self._model.set_profile_color(name, color)
        self._shown = set(colors)
