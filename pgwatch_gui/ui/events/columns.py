"""The event table's columns, colours and fonts, and how one event reads as a row."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

from pgwatch_gui.core.filtering.facets import qualified
from pgwatch_gui.core.stream.events import Event, format_key
from pgwatch_gui.ui.common.wording import counted

COL_TIME, COL_CONNECTION, COL_CHANNEL, COL_OP, COL_TABLE, COL_KEY, COL_PAYLOAD, COL_SIZE, \
    COL_PID = range(9)
HEADERS = ("Time", "Connection", "Channel", "Op", "Table", "Key", "Payload", "Bytes", "PID")
TOOLTIPS = (
    "When the notification was read (local time)",
    "The connection it arrived on",
    "The channel it was sent to",
    "The operation the payload names",
    "schema.table the payload names",
    "The row's key, as the payload names it",
    "The payload (the inspector shows all of it)",
    "Payload size in bytes; PostgreSQL refuses 8,000 or more",
    "Process id of the sending backend",
)
PREVIEW_CHARS = 240
NEAR_LIMIT_BYTES = 7000


DISPLAY_ROLE = int(Qt.ItemDataRole.DisplayRole)
FOREGROUND_ROLE = int(Qt.ItemDataRole.ForegroundRole)
BACKGROUND_ROLE = int(Qt.ItemDataRole.BackgroundRole)
FONT_ROLE = int(Qt.ItemDataRole.FontRole)
ALIGN_ROLE = int(Qt.ItemDataRole.TextAlignmentRole)
TOOLTIP_ROLE = int(Qt.ItemDataRole.ToolTipRole)
DECORATION_ROLE = int(Qt.ItemDataRole.DecorationRole)
EVENT_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # data(index, EVENT_ROLE) -> the Event
STYLE_ROLES = frozenset({FOREGROUND_ROLE, BACKGROUND_ROLE, FONT_ROLE, DECORATION_ROLE,
                         TOOLTIP_ROLE})
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def row_values(ev: Event, facets: tuple[str, str, str] | None = None) -> tuple:
    """The display strings of one row (the nine columns), then the event itself.

    `facets` (the FacetCache's operation, table and key text of the event) spares
    decoding the payload again."""
    t = ev.received_at
    lt = time.localtime(t)
    stamp = f"{lt.tm_hour:02d}:{lt.tm_min:02d}:{lt.tm_sec:02d}.{int(t * 1000) % 1000:03d}"
    if ev.kind == "gap":
        vals = (stamp, ev.profile, "", "GAP", "", "", "⚠ " + ev.payload, "", "", ev)
    else:
        if facets is None:
            d = ev.decoded
            facets = (d.op or "", qualified(d), format_key(d.key))
        payload = ev.payload
        if len(payload) > PREVIEW_CHARS:
            payload = payload[:PREVIEW_CHARS] + "…"
        if "\n" in payload or "\r" in payload or "\t" in payload:
            payload = " ".join(payload.split())
        vals = (stamp, ev.profile, ev.channel, facets[0], facets[1], facets[2],
                payload, f"{ev.size:,}", "" if ev.kind == "change" else str(ev.pid), ev)
    return vals


def table_font(font: QFont) -> QFont:
    """The font for the live table: Latin text needs no shaping, and skipping it makes a
    repaint of the table about a fifth cheaper (the repaint is most of what a busy
    stream costs the screen)."""
    f = QFont(font)
    f.setStyleStrategy(QFont.StyleStrategy.PreferNoShaping)
    return f


class Palette:
    """Colours and fonts of the table, chosen for the current (light or dark) palette."""

    def __init__(self) -> None:
        app = QGuiApplication.instance()
        pal = app.palette() if app is not None else QPalette()  # type: ignore[attr-defined]
        dark = pal.color(QPalette.ColorRole.Base).lightness() < 128
        self.dark = dark
        self.ops = {
            "INSERT": QColor("#3fb950" if dark else "#1a7f37"),
            "UPDATE": QColor("#58a6ff" if dark else "#0550ae"),
            "DELETE": QColor("#ff7b72" if dark else "#cf222e"),
            "TRUNCATE": QColor("#d2a8ff" if dark else "#8250df"),
        }
        self.gap_bg = QColor("#4d3800" if dark else "#fff1c2")
        self.gap_fg = QColor("#f2cc60" if dark else "#7a4d00")
        self.own_fg = QColor(pal.color(QPalette.ColorRole.PlaceholderText))
        if self.own_fg.lightness() == pal.color(QPalette.ColorRole.Text).lightness():
            self.own_fg = QColor("#8b949e")
        self.near_limit = QColor("#f0883e" if dark else "#bc4c00")
        base = table_font(QFont(app.font()) if app is not None else QFont())  # type: ignore[attr-defined]
        self.bold = QFont(base)
        self.bold.setBold(True)
        self.italic = QFont(base)
        self.italic.setItalic(True)
        self.bold_italic = QFont(self.bold)
        self.bold_italic.setItalic(True)


def cell_style(vals: tuple, col: int, role: int, pal: Palette, swatches: dict):
    """Colour, font, icon or tooltip of one cell (`vals` as row_values gives them)."""
    ev = vals[9]
    if role == FOREGROUND_ROLE:
        if ev.kind == "gap":
            return pal.gap_fg
        if ev.own:
            return pal.own_fg
        if col == COL_OP:
            return pal.ops.get(vals[3])
        if col == COL_SIZE and ev.size >= NEAR_LIMIT_BYTES:
            return pal.near_limit
        return None
    if role == BACKGROUND_ROLE:
        return pal.gap_bg if ev.kind == "gap" else None
    if role == FONT_ROLE:
        if ev.kind == "gap":
            return pal.bold
        if col == COL_OP and vals[3]:
            return pal.bold_italic if ev.own else pal.bold
        return pal.italic if ev.own else None
    if role == DECORATION_ROLE:
        if col == COL_CONNECTION:
            return swatches.get(ev.profile)
        return None
    if role == TOOLTIP_ROLE:
        if ev.kind == "gap":
            return ev.payload
        if ev.own:
            return "Sent from this window"
        if col == COL_SIZE:
            if ev.kind == "change":
                return f"{counted(ev.size, 'byte')}; a row change has no size limit"
            return f"{counted(ev.size, 'byte')}; {max(0, 7999 - ev.size):,} left under the limit"
        if col in (COL_CONNECTION, COL_CHANNEL, COL_TABLE, COL_KEY):
            text = vals[col]
            # long names only, and never anything Qt could take for rich text
            return text if len(text) > 14 and "<" not in text else None
        return None
    return None
