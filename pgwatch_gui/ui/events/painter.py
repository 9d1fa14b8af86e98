"""Paints the event table's visible rows in one pass.

QTableView paints cell by cell: per cell it builds a style option, asks the model for
seven or eight roles (each a call into Python) and lays the text out with QTextLayout.
For ~35 rows x 9 columns that is 13-18 ms per repaint here, and a busy stream repaints
many times a second. Painting whole rows from the model's cached display strings,
drawing text at a point (no layout) and eliding only what does not fit, costs a third
of that. What it draws is what the item delegate would draw: alternate rows, selection,
operation colours, dimmed own notifications, gap rows, right-aligned numbers, the
connection's colour swatch.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette

from pgwatch_gui.ui.events.columns import (
    COL_CONNECTION,
    COL_OP,
    COL_PAYLOAD,
    COL_PID,
    COL_SIZE,
    NEAR_LIMIT_BYTES,
)

PAD = 6
_ELIDE_RIGHT = Qt.TextElideMode.ElideRight
SWATCH = 8


def paint_rows(view, painter: QPainter) -> None:
    model = view.model()
    n = model.rowCount()
    vp = view.viewport()
    width = vp.width()
    height = vp.height()
    if n == 0:
        return
    vh = view.verticalHeader()
    first = vh.logicalIndexAt(0)
    if first < 0:
        return
    row_h = vh.defaultSectionSize()
    y = vh.sectionViewportPosition(first)
    last = min(n - 1, first + (height - y) // max(1, row_h) + 1)

    hh = view.horizontalHeader()
    cols = []
    for visual in range(hh.count()):
        col = hh.logicalIndex(visual)
        if hh.isSectionHidden(col):
            continue
        x = hh.sectionViewportPosition(col)
        w = hh.sectionSize(col)
        if x + w <= 0 or x >= width:
            continue
        cols.append((col, x, w))
    if not cols:
        return

    pal = view.palette()
    group = QPalette.ColorGroup.Active if view.hasFocus() else QPalette.ColorGroup.Inactive
    text_color = pal.color(group, QPalette.ColorRole.Text)
    hl_bg = pal.brush(group, QPalette.ColorRole.Highlight)
    hl_fg = pal.color(group, QPalette.ColorRole.HighlightedText)
    alt_bg = pal.brush(group, QPalette.ColorRole.AlternateBase)
    alternate = view.alternatingRowColors()
    colors = model.palette
    op_colors = colors.ops
    swatches = model.profile_colors

    base_font = view.font()
    fonts = {None: base_font, "bold": colors.bold, "italic": colors.italic,
             "bold_italic": colors.bold_italic}
    metrics = {k: QFontMetrics(f) for k, f in fonts.items()}
    fm0 = metrics[None]
    ascent = max(m.ascent() for m in metrics.values())
    descent = max(m.descent() for m in metrics.values())
    max_char = max(fm0.maxWidth(), 1)
    min_char = max(min(fm0.horizontalAdvance("i"), fm0.horizontalAdvance(".")), 1)
    painter.setFont(base_font)
    current_font = None
    current_pen = None

    sel = view.selectionModel()
    root = view.rootIndex()
    any_selected = sel.hasSelection()  # isRowSelected costs ~35 us a row, even for none
    row_cache = model.row_values
    for row in range(first, last + 1):
        vals = row_cache(row)
        ev = vals[9]
        gap = ev.kind == "gap"
        own = ev.own
        selected = any_selected and sel.isRowSelected(row, root)
        if selected:
            painter.fillRect(0, y, width, row_h, hl_bg)
        elif gap:
            painter.fillRect(0, y, width, row_h, colors.gap_bg)
        elif alternate and row % 2:
            painter.fillRect(0, y, width, row_h, alt_bg)
        baseline = y + (row_h + ascent - descent) // 2
        span_from = None
        if gap:  # the message runs from the first column after Op to the right edge
            span_from = next((x for col, x, _w in cols if col > COL_OP), None)
        for col, x, w in cols:
            text = vals[col]
            if not text:
                continue
            if span_from is not None and col > COL_OP:
                if col != COL_PAYLOAD:
                    continue
                x, w = span_from, width - span_from
            left = x + PAD
            avail = w - 2 * PAD
            if col == COL_CONNECTION:
                swatch = swatches.get(ev.profile)
                if swatch is not None:
                    painter.fillRect(left, y + (row_h - SWATCH) // 2, SWATCH, SWATCH, swatch)
                    left += SWATCH + 5
                    avail -= SWATCH + 5
            if avail <= 0:
                continue
            # font
            if gap or (col == COL_OP and not own):
                fkey = "bold"
            elif own:
                fkey = "bold_italic" if col == COL_OP else "italic"
            else:
                fkey = None
            if fkey != current_font:
                painter.setFont(fonts[fkey])
                current_font = fkey
            fm = metrics[fkey]
            # colour
            if selected:
                pen = hl_fg
            elif gap:
                pen = colors.gap_fg
            elif own:
                pen = colors.own_fg
            elif col == COL_OP:
                pen = op_colors.get(text, text_color)
            elif col == COL_SIZE and ev.size >= NEAR_LIMIT_BYTES:
                pen = colors.near_limit
            else:
                pen = text_color
            if pen is not current_pen:
                painter.setPen(pen)
                current_pen = pen
            if len(text) * max_char > avail and fm.horizontalAdvance(text) > avail:
                cut = avail // min_char + 2
                text = fm.elidedText(text[:cut], _ELIDE_RIGHT, avail)
                if not text:
                    continue
            if col in (COL_SIZE, COL_PID):
                left = x + w - PAD - fm.horizontalAdvance(text)
            painter.drawText(QPoint(left, baseline), text)
        y += row_h
        if y >= height:
            break


def paint_region(view, event) -> None:
    painter = QPainter(view.viewport())
    try:
        r: QRect = event.rect()
        painter.setClipRect(r)
        paint_rows(view, painter)
    finally:
        painter.end()
