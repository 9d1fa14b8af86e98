"""Controls stay where the mouse is: the filter pickers and the WHEN Check button used to
move when their text (or the text next to them) changed. And Tools > SQL console comes to
the front of its tab group."""

from __future__ import annotations

import os

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QTabBar, QWidget

from pgwatch_gui.core.triggers.catalog import Column, TableInfo
from pgwatch_gui.ui.events.filter_bar import FilterBar
from pgwatch_gui.ui.triggers.form import TriggerForm
from tests.ui.windows import shown_window

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue22")


def where(w: QWidget, top: QWidget) -> tuple[int, int, int, int]:
    p = w.mapTo(top, QPoint(0, 0))
    return p.x(), p.y(), w.width(), w.height()


def settle() -> None:
    QApplication.processEvents()
    QApplication.processEvents()


def test_filter_pickers_do_not_move_when_values_are_picked(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.resize(1280, 60)
    bar.show()
    settle()
    controls = (bar.channel_picker, bar.op_picker, bar.table_picker, bar.hide_own,
                bar.reset_button)
    before = [where(c, bar) for c in controls]
    assert not bar._two_rows  # one row at 1280 px, as before
    for picks in (({"orders"}, {"UPDATE"}, {"public.orders"}),
                  ({"orders", "audit", "Order Events"}, {"INSERT", "DELETE"},
                   {"public.order_items", "sales.customers"}),
                  ({"a_channel_with_a_rather_long_name"}, {"TRUNCATE"},
                   {"warehouse.inventory_movements_archive"})):
        for picker, values in zip((bar.channel_picker, bar.op_picker, bar.table_picker),
                                  picks, strict=True):
            picker.set_selected(values)
        settle()
        assert [where(c, bar) for c in controls] == before, picks
        for picker in (bar.channel_picker, bar.op_picker, bar.table_picker):
            # what the button says fits in it (a long value is cut, whole in the tip)
            assert picker.fontMetrics().horizontalAdvance(picker.text()) <= picker.width()
    assert bar.op_picker.text() == "Op: TRUNCATE "  # the longest operation shows whole
    assert bar.table_picker.text().startswith("Table: wareh")
    assert "…" in bar.table_picker.text()
    assert bar.table_picker.toolTip() == "warehouse.inventory_movements_archive"
    bar.table_picker.set_selected({"public.orders"})  # a usual name shows whole
    assert bar.table_picker.text() == "Table: public.orders "
    os.makedirs(SHOTS, exist_ok=True)
    bar.grab().save(os.path.join(SHOTS, "filter-bar-picked-1280.png"))


def test_a_narrow_bar_gives_the_pickers_a_row_of_their_own(qtbot):
    """One width per picker must not make the window wider: below two rows' width the
    pickers get a row of their own, and still do not move when values are picked."""
    bar = FilterBar()
    qtbot.addWidget(bar)
    assert bar.minimumWidth() < 520  # as narrow as before the pickers kept one width
    for width, rows in ((1280, 1), (900, 2), (600, 3)):
        bar.resize(width, 90)
        bar.show()
        settle()
        assert bar.rows_used == rows, width
    before = [where(c, bar) for c in (bar.op_picker, bar.table_picker, bar.fields)]
    bar.channel_picker.set_selected({"orders", "audit"})
    bar.op_picker.set_selected({"DELETE"})
    settle()
    assert [where(c, bar) for c in (bar.op_picker, bar.table_picker, bar.fields)] == before
    bar.resize(600, bar.sizeHint().height())
    settle()
    bar.grab().save(os.path.join(SHOTS, "filter-bar-600.png"))


def form() -> TriggerForm:
    cols = tuple(Column(n, "text", position=i) for i, n in enumerate(("id", "name", "status")))
    return TriggerForm([TableInfo("public", "orders", 1, cols, key=("id",),
                                  key_source="primary key")])


def test_when_check_button_stays_put_whatever_the_answer(qtbot):
    f = form()
    qtbot.addWidget(f)
    f.show()  # at the size it asks for, as in its dialog: no slack to hide a jump
    settle()
    before = where(f.when_check, f), where(f.when_edit, f), f.size()
    for ok, text in ((True, "checking..."), (True, "OK"),
                     (False, "column new.nmae does not exist"),
                     (False, "operator does not exist: integer = text; no operator matches "
                      "the given name and argument types. You might need to add explicit "
                      "type casts: /a/very/long/path/or_token_without_spaces_that_cannot_"
                      "wrap_anywhere_at_all_in_a_label"),
                     (True, "")):
        f.set_when_status(ok, text)
        settle()
        assert (where(f.when_check, f), where(f.when_edit, f), f.size()) == before, text
        assert f.minimumSizeHint().width() <= f.width()
        assert f.when_status.toolTip() == text
    f.when_edit.setText("NEW.name; DROP TABLE x")  # refused at once, under the field
    settle()
    assert where(f.when_check, f) == before[0]


def front_tab(w) -> str:
    """The tab in front in the group of Profiles, Tables, Channels, SQL console."""
    for bar in w.findChildren(QTabBar):
        names = [bar.tabText(i) for i in range(bar.count())]
        if "Profiles" in names:
            return bar.tabText(bar.currentIndex())
    return ""


def test_tools_sql_console_comes_to_the_front(qtbot, qloop, tmp_path):
    w = shown_window(qtbot, tmp_path, (1280, 720))
    try:
        settle()
        console = w.sql_console
        assert not console.isVisible()
        action = next(a for a in w.menu_tools.actions() if "SQL console" in a.text())
        action.trigger()
        settle()
        assert console.isVisible() and front_tab(w) == "SQL console"
        w.grab().save(os.path.join(SHOTS, "sql-console-raised-1280.png"))
        w.resize(1920, 1080)
        settle()
        w.grab().save(os.path.join(SHOTS, "sql-console-raised-1920.png"))
        w.raise_dock("dock-profiles")  # the user looks at Profiles: the console is behind
        settle()
        assert front_tab(w) == "Profiles"
        action.trigger()  # a toggle hid it here instead of bringing it back
        settle()
        assert console.isVisible() and front_tab(w) == "SQL console"
        tables = next(a for a in w.menu_tools.actions() if "Tables" in a.text())
        tables.trigger()
        settle()
        assert front_tab(w) == "Tables"
    finally:
        qloop.run_until_complete(w.shutdown())
