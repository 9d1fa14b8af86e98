"""Publications that change streams left behind (a stream killed before it could clean
up, core/replication/publication.py): said in one line, removed with one button. The
Watch changes dialog and the audit window show them alike; each lays the two out."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from pgwatch_gui.core.replication.publication import Leftover, drop_leftovers
from pgwatch_gui.ui.common.tasks import AsyncWork


class LeftoverPublications:
    """`label` says what was left behind; `button` removes it on `conninfo`'s server."""

    def __init__(self, work: AsyncWork, conninfo: str, on_error: Callable[[str], None],
                 style: str = "") -> None:
        self._work = work
        self._conninfo = conninfo
        self._on_error = on_error
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setStyleSheet(style)
        self.button = QPushButton("Remove leftovers", clicked=self.remove)
        self.button.hide()

    def show(self, leftovers: Sequence[Leftover]) -> None:
        """Say what `leftovers` are and offer to remove them (none: nothing changes)."""
        if leftovers:
            self.label.setText("Left behind by streams that ended without cleaning up: "
                               + "; ".join(x.describe() for x in leftovers) + ".")
            self.button.show()

    def remove(self) -> None:
        def done(dropped) -> None:
            self.label.setText(f"Removed {len(dropped)} leftover publication(s).")
            self.button.hide()

        self._work.run(drop_leftovers, self._conninfo, on_done=done, on_error=self._on_error)
